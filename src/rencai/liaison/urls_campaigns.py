"""URLs of campaigns and greetings, mounted at /liaison/campaigns/."""

urlpatterns: list = []
