"""Views: reference (to be filled)."""

urlpatterns: list = []
