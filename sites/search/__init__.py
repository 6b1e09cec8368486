"""Criteria search on the territory's 1 km cells: the scoring engine, its API and the map page."""
