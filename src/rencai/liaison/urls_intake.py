"""URLs of information collection (信息采集), mounted from the root URL map:

- ``public_urlpatterns`` at /join/: the public registration and update pages (no sign-in; publish
  only this prefix to the internet, see docs/intake.md);
- ``review_urlpatterns`` at /liaison/review/: the staff review queue and the registration QR code.
"""

from django.urls import path, re_path

from rencai.liaison import views_intake as views

public_urlpatterns = [
    path("", views.register, name="intake_register"),
    path("thanks/", views.thanks, name="intake_thanks"),
    path("update/", views.update, name="intake_update"),
    path("update/done/", views.update_done, name="intake_update_done"),
]

review_urlpatterns = [
    path("share/", views.share, name="intake_share"),
    re_path(r"^share/qr\.(?P<fmt>svg|png)$", views.share_qr, name="intake_share_qr"),
    path("<int:pk>/accept/", views.accept, name="intake_accept"),
    path("<int:pk>/reject/", views.reject, name="intake_reject"),
    path("<int:pk>/merge/<int:talent_pk>/", views.merge, name="intake_merge"),
    *views.IntakeSubmissionViews.urls(),
]
