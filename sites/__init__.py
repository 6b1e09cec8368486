"""The resident-facing site of each territory."""
