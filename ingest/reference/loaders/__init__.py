"""Loaders of the national reference files into `pois`, `cell_population` and `property_sales`.

One module per published format; each loader takes a path (or a list of paths, loaded together
as one dataset) and returns a LoadReport (`files`). They need an application context, not a
request:

- `bpe.load_bpe`: INSEE's Base permanente des équipements (CSV) → pois, source "bpe";
- `osm.load_osm`: an OpenStreetMap extract (.osm.pbf) → pois, source "osm";
- `filosofi.load_filosofi`: INSEE's Filosofi gridded data, 1 km or 200 m (CSV) → cell_population;
- `dvf.load_dvf`: Etalab's geolocated DVF (CSV) → property_sales, source "dvf".

A load replaces the source's whole dataset in ONE transaction (`dataset`): it deletes the
source's rows, COPYs the new ones and commits; on any exception it rolls back and re-raises, so a
failed load changes nothing and loading the same file twice gives the same rows. It commits or
rolls back `db.session`: call it with no pending work of your own.

Bad rows are skipped, counted and reported with their line number in the file (the header is
line 1); they never stop the load. A file that cannot be used at all (missing, unreadable,
missing a required column, or without a single usable row) raises LoadError, and nothing
changes.

Memory stays flat: CSV files are read CHUNK rows at a time (`files`); each chunk is projected
and gridded with numpy/pyproj (`places`, core.grid) and streamed into COPY. CSV files may be
UTF-8 (with or without BOM) or Windows-1252, separated by `;`, `,` or tabs, and may be gzipped
(`.gz`) or be the only data CSV in a `.zip` (INSEE's `varmod_*.csv` descriptions are ignored).
"""
