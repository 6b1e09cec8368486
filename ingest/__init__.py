"""Everything that brings data in: normed files, the API bridge, national reference loaders."""
