"""Background jobs of the dedupe part."""
