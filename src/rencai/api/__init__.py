"""The REST API: one NinjaAPI under /api/, each area adding its router."""
