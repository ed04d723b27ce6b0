"""URLs of the cooperation area, mounted at /cooperation/: the record pages of each model
(university_list …, agreement_detail …, project_add …), project_move, the documents,
follow-up and lead conversion, cooperation_figures and the scheduling-meeting pack."""

from django.urls import path

from rencai.cooperation import views

urlpatterns: list = [
    *views.UniversityViews.urls(),
    *views.UniversityContactViews.urls(),
    *views.AgreementViews.urls(),
    path("agreements/<int:pk>/documents/", views.document_upload, name="agreement_document_upload"),
    path("documents/<int:pk>/", views.document_download, name="agreementdocument_download"),
    *views.ProjectViews.urls(),
    path("projects/<int:pk>/move/", views.project_move, name="project_move"),
    *views.MilestoneViews.urls(),
    *views.ReportViews.urls(),
    *views.SupervisionViews.urls(),
    *views.ProblemViews.urls(),
    *views.BaseViews.urls(),
    *views.ExpertViews.urls(),
    *views.AchievementViews.urls(),
    *views.VisitViews.urls(),
    *views.FollowUpViews.urls(),
    path("follow-ups/<int:pk>/to-<slug:to>/", views.follow_up_convert, name="followup_convert"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert_project"),
    *views.CooperationDatabaseViews.urls(),
    path("figures/", views.figures_page, name="cooperation_figures"),
    path("pack/", views.pack_page, name="cooperation_pack"),
    path("pack/download/", views.pack_download, name="cooperation_pack_download"),
]
