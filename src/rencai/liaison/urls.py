"""URLs of the liaison area, mounted at /liaison/."""

urlpatterns: list = []
