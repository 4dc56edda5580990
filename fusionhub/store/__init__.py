"""The store: tables, migrations, and the SQLite / PostgreSQL engines behind one interface."""

from fusionhub.store.store import Store, StoreError, utcnow

__all__ = ["Store", "StoreError", "utcnow"]
