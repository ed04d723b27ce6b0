"""Wiring of the REST API."""

from ninja import NinjaAPI

api = NinjaAPI(title="rencai API", version="1", urls_namespace="api")
