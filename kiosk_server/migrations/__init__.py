"""Alembic migrations of the service's database (`versions/`, run by `kiosk_server.db.upgrade`)."""

HEAD = "0017_visitor_photos"
"""The latest migration's revision: a database already there needs no migration run at all
(`db.upgrade` checks it without loading Alembic). A test keeps it equal to Alembic's head."""
