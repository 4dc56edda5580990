"""Alembic environment: runs against the connection FusionHub hands it."""

from alembic import context

from fusionhub.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
