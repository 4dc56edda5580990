"""The graph tests reuse the resolution fixtures (generated persons, a model trained once)."""

from tests.resolve.conftest import persons, trained_model

__all__ = ["persons", "trained_model"]
