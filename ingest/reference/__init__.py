"""National reference data shared by every territory, in the public schema.

Communes, 1 km cells, points of interest, gridded population, property sales, and the per-cell
criterion profiles: their loaders, builders and the `flask geo` commands.
"""
