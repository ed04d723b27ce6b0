"""URLs of the liaison area, mounted at /liaison/ (the review queue has its own, urls_intake):
contactrecord_list …, contact_quick, contact_talent_search, contactrequest_list …,
contactrequest_status, worklist, worklist_assign, worklist_confirm_lost, lead_list …,
cadencerule_list …, and the campaigns under campaigns/."""

from django.urls import include, path

from rencai.liaison import views

urlpatterns: list = [
    path("contacts/quick/", views.quick_entry, name="contact_quick"),
    path("contacts/talents/", views.talent_search, name="contact_talent_search"),
    *views.ContactRecordViews.urls(),
    path("requests/<int:pk>/status/", views.request_status, name="contactrequest_status"),
    *views.ContactRequestViews.urls(),
    path("worklists/", views.worklist, name="worklist"),
    path("worklists/assign/", views.worklist_assign, name="worklist_assign"),
    path("worklists/confirm-lost/", views.worklist_confirm_lost, name="worklist_confirm_lost"),
    *views.LeadViews.urls(),
    *views.CadenceRuleViews.urls(),
    path("campaigns/", include("rencai.liaison.urls_campaigns")),
]
