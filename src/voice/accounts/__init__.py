"""People and their rights: users, roles, sessions, API tokens and the audit trail."""
