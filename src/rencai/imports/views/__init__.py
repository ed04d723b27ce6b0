"""Views of the imports app, a module per part."""
