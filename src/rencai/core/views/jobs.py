"""Views: jobs (to be filled)."""

urlpatterns: list = []
