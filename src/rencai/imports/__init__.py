"""Excel import and export of the registry, and one person one record (dedupe and merge)."""
