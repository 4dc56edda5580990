"""JSON answers of the busiest endpoints, written once.

FastAPI validates what an endpoint returns against its response model and then writes
it; for a page of search hits that pass cost about a tenth of the request's CPU. The
search and record-view endpoints build their bodies from the domain's own ``to_json``
(the same fields the response model declares, which stays on the route for the OpenAPI
document; the schemathesis tests check the answers against it) and return them written
by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


def json_response(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS), media_type="application/json")
