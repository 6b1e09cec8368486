"""Everything that brings data in: national reference data, and a territory's own listings
(normed files, the API bridge, the editor console, the one write module)."""
