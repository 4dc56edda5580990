"""Fixed statements run on the database driver's own cursor.

A few statements run on every audited action (every search, every record view) or every
transaction: the audit chain's head update and event insert, the page of search hits,
the active policy version. Through SQLAlchemy's execution layer each costs ~18 µs of
Python before the database sees it, against ~1-3 µs for the database's own work on
SQLite; on the driver's cursor that overhead goes. The statement is still
written once as a SQLAlchemy expression and compiled per dialect, so the SQL text and
its parameter style (``?`` for sqlite3, ``%(name)s`` for psycopg) come from SQLAlchemy.

Only for statements whose parameters need no type processing (integers and strings):
values go to the driver exactly as given. Rows come back as the driver returns them;
:class:`DriverQuery` also decodes what the driver leaves as text (sqlite3's JSON and
date-times) into what SQLAlchemy's result layer would have given.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Dialect, Select
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class _Compiled:
    __slots__ = ("defaults", "order", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        self.sql = str(compiled)
        # Values fixed in the expression (e.g. ``name == "chain"``) travel as bound
        # parameters with their value; the caller's parameters are added to them.
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.order: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if compiled.positional else None

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        merged = {**self.defaults, **params} if self.defaults else params
        if self.order is None:
            return merged
        return tuple(merged[name] for name in self.order)


class DriverStatement:
    """A SQLAlchemy statement compiled once per dialect and run on the driver's cursor,
    inside the caller's transaction."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, conn: Connection) -> _Compiled:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            found = self._compiled[name] = _Compiled(self.statement, conn.dialect)
        return found

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run the statement once; the rows it returns (for ``RETURNING`` or a query)."""
        compiled = self._for(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.arguments(params or {}))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per parameter set in ``rows``."""
        if not rows:
            return
        compiled = self._for(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.sql, [compiled.arguments(row) for row in rows])  # type: ignore[arg-type]
        finally:
            cursor.close()


class DriverQuery(DriverStatement):
    """A ``SELECT`` run on the driver's cursor whose rows read as SQLAlchemy's would.

    Rows are named tuples under the statement's column keys; JSON columns are decoded
    and date-times parsed where the driver returns text (sqlite3 does, psycopg does
    not), with the store's own JSON reader.
    """

    def __init__(self, statement: Select[Any], row_type: Any = None) -> None:
        """``row_type``: a named tuple for the rows, its fields in the statement's order
        (by default one made from the column keys)."""
        super().__init__(statement)
        columns = list(statement.selected_columns)
        keys = [str(column.key) for column in columns]
        if row_type is not None and list(row_type._fields) != keys:
            raise ValueError(f"{row_type.__name__} does not name the statement's columns in order")
        self.row_type: Any = row_type if row_type is not None else namedtuple("Row", keys)  # type: ignore[misc]
        self._json = tuple(i for i, c in enumerate(columns) if isinstance(c.type, JSON))
        self._datetimes = tuple(i for i, c in enumerate(columns) if isinstance(c.type, DateTime))
        self._dates = tuple(i for i, c in enumerate(columns) if isinstance(c.type, Date))

    def decode(self, raw: Sequence[Any]) -> Any:
        """A row as the driver returned it (``execute``), decoded. Decoding can wait
        until after the commit: a transaction that writes holds the store's write lock."""
        from fusionhub.store.store import json_loads

        values = list(raw)
        for i in self._json:
            if isinstance(values[i], str | bytes):
                values[i] = json_loads(values[i])
        for i in self._datetimes:
            if isinstance(values[i], str):
                values[i] = datetime.fromisoformat(values[i])
        for i in self._dates:
            if isinstance(values[i], str):
                values[i] = date.fromisoformat(values[i])
        return self.row_type(*values)
