"""The liaison area's sidebar group."""
