"""SQLAlchemy models, sessions, migrations and pipeline rules."""
