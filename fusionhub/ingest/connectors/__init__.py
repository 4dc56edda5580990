"""Connectors, one module per format. Importing this package registers the built-ins."""

from fusionhub.ingest.connectors import csv_file, json_file, stix, xml_file  # noqa: F401
from fusionhub.ingest.connectors.base import CONNECTORS, ConnectorInfo, SourceRow, get_connector

__all__ = ["CONNECTORS", "ConnectorInfo", "SourceRow", "get_connector"]
