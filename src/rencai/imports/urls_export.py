"""URLs of the export part of the imports app."""

urlpatterns: list = []
