"""The platform kernel, importing nothing above it: settings, the tenant-aware database, tenancy
and the registry of territories, web plumbing with the one commit point, signals, jobs, the
/api/v1 plumbing, accounts, mail, storage, languages and themes."""
