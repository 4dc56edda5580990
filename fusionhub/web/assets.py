"""Static assets: our own files, the front-end packages installed from the npm registry
(``npm ci`` at setup, from package-lock.json) and the offline base map.

Nothing is fetched at run time and nothing comes from a CDN: the vendor files are
served from ``node_modules`` by an allowlist of their ``dist`` folders.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
REPO = HERE.parents[1]
#: package -> folder inside it that is served under /static/vendor/<package>/
VENDOR = {
    "htmx.org": "dist",
    "leaflet": "dist",
    "chart.js": "dist",
    "cytoscape": "dist",
}
BASEMAP = Path("incidents/stlouis_slmpd/boundaries/stl_neighborhoods.geojson")


class AssetsMissing(RuntimeError):
    """The front-end packages are not installed: run `npm ci` at the repository root."""


def node_modules() -> Path:
    return Path(os.environ.get("FUSIONHUB_NODE_MODULES", REPO / "node_modules"))


def shared_data() -> Path:
    return Path(os.environ.get("FUSIONHUB_SHARED_DATA", REPO.parent / "shared" / "data"))


def mount(app: FastAPI) -> None:
    modules = node_modules()
    for package, folder in VENDOR.items():
        directory = modules / package / folder
        if not directory.is_dir():
            raise AssetsMissing(f"{directory} is missing: run `npm ci` in {REPO} (see scripts/setup.sh)")
        app.mount(f"/static/vendor/{package}", StaticFiles(directory=directory), name=f"vendor-{package}")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


@lru_cache(maxsize=1)
def basemap_geojson() -> bytes:
    """The neighbourhood boundaries as a lon/lat FeatureCollection: the offline base layer.

    Coordinates are rounded to 5 decimals (~1 m), which is finer than a screen pixel at
    city zoom and roughly halves the payload.
    """
    path = shared_data() / BASEMAP
    if not path.exists():
        return json.dumps({"type": "FeatureCollection", "features": []}).encode()
    data = json.loads(path.read_text(encoding="utf-8"))

    def rounded(value: object) -> object:
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, float):
            return round(value, 5)
        return value

    features = [
        {
            "type": "Feature",
            "properties": {"name": f["properties"].get("NHD_NAME"), "number": f["properties"].get("NHD_NUM")},
            "geometry": {"type": f["geometry"]["type"], "coordinates": rounded(f["geometry"]["coordinates"])},
        }
        for f in data.get("features", [])
        if f.get("geometry")
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()


def basemap_response() -> Response:
    return Response(basemap_geojson(), media_type="application/geo+json", headers={"cache-control": "max-age=86400"})
