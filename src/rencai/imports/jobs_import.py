"""Background jobs of the import part."""
