"""Database: engines, sessions, the embedded server, tenancy (RLS) and migrations."""
