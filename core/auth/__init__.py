"""People: accounts, sessions, roles per territory, invitations and the audit log."""
