"""Views: tokens (to be filled)."""

urlpatterns: list = []
