"""Background jobs of the export part."""
