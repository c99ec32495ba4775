"""Alembic migrations of the store; ``env.py`` runs on the connection the store hands it."""
