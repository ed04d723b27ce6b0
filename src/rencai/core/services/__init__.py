"""Service functions of the platform core: multi-row writes in one transaction, audited."""
