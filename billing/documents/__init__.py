"""Invoice documents: Factur-X EN 16931 (CII XML in a PDF/A-3), UBL 2.1 export, storage."""
