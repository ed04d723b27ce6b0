"""Views of the shell; generic views live in ``core.views.generic``."""
