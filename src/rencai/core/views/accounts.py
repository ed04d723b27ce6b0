"""Views: accounts (to be filled)."""

urlpatterns: list = []
