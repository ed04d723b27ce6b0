"""URLs of the dedupe part of the imports app."""

urlpatterns: list = []
