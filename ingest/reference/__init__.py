"""National reference data shared by every territory: communes, cells, points of interest,
gridded population, property sales, and the per-cell criterion profiles."""
