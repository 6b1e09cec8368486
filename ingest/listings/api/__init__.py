"""The listings endpoints of /api/v1: the guard, a listing's representation, the OpenAPI
fragments, the views (one listing, the list, bulk) and the docs page."""
