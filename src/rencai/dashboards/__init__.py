"""人才驾驶舱: the distribution structure of talent for decision makers, and its reports."""
