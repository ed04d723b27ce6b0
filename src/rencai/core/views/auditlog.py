"""Views: auditlog (to be filled)."""

urlpatterns: list = []
