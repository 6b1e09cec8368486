"""The platform kernel: configuration, database, tenancy and shared services."""
