"""The platform itself (平台): the database, users, roles, sessions, logins, passwords and the shared
feature collections (OGC API Features)."""
