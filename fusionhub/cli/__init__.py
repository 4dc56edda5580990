"""The ``fusionhub`` command line. Each module of this package adds its commands with
``register(app)``; the commands call domain functions and print, nothing more."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from fusionhub.cli.context import global_options

# Derived indexes that follow the store register themselves on import, so every import
# run from the command line updates them right after each chunk commits.
from fusionhub.search import follower as _search_follower  # noqa: F401

app = typer.Typer(
    name="fusionhub",
    help="FusionHub: aggregate, search, fuse and share records with privacy enforced by the system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(global_options)

for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if module.startswith("_") or module in ("context",):
        continue
    mod = importlib.import_module(f"{__name__}.{module}")
    if hasattr(mod, "register"):
        mod.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
