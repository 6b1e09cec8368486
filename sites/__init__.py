"""The resident's site of each territory: its pages and look, the criteria search and map, the
public side of listings, leads and consent, and the territory console."""
