"""Import batches, their rows and saved column mappings."""
