"""Cursor pagination: an opaque cursor naming the last key seen, never an offset.

A cursor stays valid while rows are added (no skipped or repeated items, unlike
offsets) and costs one index seek however deep the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import BaseModel

from fusionhub.api.errors import ApiError

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    #: Pass as ``cursor`` to get the next page; null on the last page.
    next_cursor: str | None = None


def encode_cursor(key: Any) -> str:
    raw = json.dumps({"after": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return value["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out") from exc


#: Largest values of the store's integer columns (PostgreSQL INTEGER and BIGINT).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
#: Ids in a JSON body stay within the integers every JSON client represents exactly (2**53).
JSON_INT_MAX = 2**53 - 1


def decode_int_cursor(cursor: str | None, maximum: int = INT64_MAX) -> int | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ApiError(400, "bad_cursor", "the cursor is not one this API gave out")
    return value


def page_of(items: list[T], limit: int, key: Any) -> Page[T]:
    """``items`` fetched with ``limit + 1`` rows: the extra row says whether there is more."""
    more = len(items) > limit
    items = items[:limit]
    return Page[T](items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)


#: Path parameters naming rows by id, bounded by their column so a huge number is a 404, not a 500.
SmallId = Annotated[int, Path(ge=1, le=INT32_MAX)]
BigId = Annotated[int, Path(ge=1, le=INT64_MAX)]
