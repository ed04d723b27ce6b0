"""URLs of campaigns and greetings, mounted at /liaison/campaigns/ (``urlpatterns``, for staff)
and at /join/unsubscribe/ (``public_urlpatterns``: the unsubscribe page e-mails link to)."""

from django.urls import path

from rencai.liaison import views_campaigns as views

public_urlpatterns = [
    path("", views.unsubscribe, name="campaign_unsubscribe"),
]

urlpatterns: list = [
    path("greetings/", views.greeting_list, name="greeting_list"),
    path("greetings/prepare/", views.greeting_prepare, name="greeting_prepare"),
    path("<int:pk>/send/", views.campaign_send, name="campaign_send"),
    path("<int:pk>/stop/", views.campaign_stop, name="campaign_stop"),
    *views.OptOutViews.urls(),
    *views.OutboxViews.urls(),
    *views.CampaignViews.urls(),
]
