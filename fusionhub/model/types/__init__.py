"""Property types: each owns its normalisation and validation, in one module."""

from __future__ import annotations

from fusionhub.model.types.address import AddressType
from fusionhub.model.types.base import InvalidValue, PropertyType, inert
from fusionhub.model.types.dates import DateTimeType, DateType
from fusionhub.model.types.geo import GeoPointType
from fusionhub.model.types.identifiers import IdentifierType, PlateType
from fusionhub.model.types.name import NameParts, NameType, parse_name
from fusionhub.model.types.phone import PhoneType
from fusionhub.model.types.simple import (
    BooleanType,
    CodeType,
    EmailType,
    EntityType,
    NumberType,
    StringType,
    TextType,
)

TYPES: dict[str, PropertyType] = {
    t.name: t
    for t in (
        StringType(),
        TextType(),
        CodeType(),
        NumberType(),
        BooleanType(),
        EmailType(),
        EntityType(),
        NameType(),
        DateType(),
        DateTimeType(),
        PhoneType(),
        AddressType(),
        IdentifierType(),
        PlateType(),
        GeoPointType(),
    )
}

__all__ = ["TYPES", "InvalidValue", "NameParts", "PropertyType", "inert", "parse_name"]
