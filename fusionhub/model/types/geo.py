"""Geographic points, stored as ``lat,lon`` in WGS84 with six decimals (~0.1 m).

Sources that give projected coordinates (state-plane feet) name their CRS; the
conversion happens here, once, with PROJ (pyproj), whose grids ship in the wheel.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pyproj import Transformer

from fusionhub.model.types.base import InvalidValue, PropertyType

_PAIR = re.compile(r"^\(?\s*([+-]?\d+(?:\.\d+)?)\s*[, ]\s*([+-]?\d+(?:\.\d+)?)\s*\)?$")


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def parse_point(value: str) -> tuple[float, float]:
    lat, _, lon = value.partition(",")
    return float(lat), float(lon)


class GeoPointType(PropertyType):
    name = "geopoint"
    label = "Coordinates"
    max_length = 64

    def clean(self, raw: Any, **hints: Any) -> str | None:
        """``raw`` is ``"lat, lon"`` text, a (lat, lon) pair, or with ``crs`` an (x, y) pair."""
        if raw is None:
            return None
        crs = hints.get("crs")
        if isinstance(raw, (tuple, list)):
            if len(raw) != 2 or any(v is None or str(v).strip() == "" for v in raw):
                return None
            try:
                a, b = float(raw[0]), float(raw[1])
            except ValueError as exc:
                raise InvalidValue(f"{raw!r} are not numeric coordinates") from exc
        else:
            text = str(raw).strip()
            if not text:
                return None
            match = _PAIR.match(text)
            if not match:
                raise InvalidValue(f"{text!r} is not a coordinate pair")
            a, b = float(match.group(1)), float(match.group(2))
        if crs:
            if a == 0 and b == 0:
                return None  # "not geocoded" in every state-plane export we have
            lon, lat = _transformer(str(crs)).transform(a, b)
        else:
            lat, lon = a, b
        if lat == 0 and lon == 0:
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidValue(f"({lat}, {lon}) is outside the range of latitude and longitude")
        return f"{lat:.6f},{lon:.6f}"

    def match_keys(self, value: str) -> list[str]:
        lat, lon = parse_point(value)
        return [f"{lat:.3f},{lon:.3f}"]
