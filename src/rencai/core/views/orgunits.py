"""Views: orgunits (to be filled)."""

urlpatterns: list = []
