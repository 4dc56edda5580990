"""The REST API (FastAPI): routers translate HTTP into domain calls, nothing more."""

from fusionhub.api.app import create_app

__all__ = ["create_app"]
