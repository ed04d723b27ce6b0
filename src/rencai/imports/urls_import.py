"""URLs of the import part of the imports app."""

urlpatterns: list = []
