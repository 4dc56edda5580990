"""The entity model: schemata in YAML (``schema/``) and property types (``types/``)."""

from fusionhub.model.model import InvalidModel, Model, Property, Schema, load_model

__all__ = ["InvalidModel", "Model", "Property", "Schema", "load_model"]
