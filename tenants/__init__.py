"""The territory lifecycle: provisioning, schema migrations, backups, the demo territories and
the platform console where billing admins create territories."""
