"""Replaying a cell's memoised outcome maps a row exactly as the general path does.

``Profile._apply`` keeps what each distinct cell does (``fusionhub.ingest.outcome``);
here every demo source's export is mapped twice, once with the memo and once with the
memo switched off (every cell through ``_apply_one``), and the drafts must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fusionhub.demo import generate
from fusionhub.ingest import profile as profile_module
from fusionhub.ingest.connectors import ConnectorInfo, get_connector
from fusionhub.ingest.errors import RowRejected
from fusionhub.ingest.profile import Profile


def _map_all(path: Path, profile_name: str) -> list[Any]:
    mapping = Profile.load(profile_name)
    options = {**mapping.options, "max_field_bytes": 1 << 20}
    out: list[Any] = []
    for row in get_connector(mapping.format)(path, options, ConnectorInfo()):
        if row.error:
            out.append(("error", row.error))
            continue
        try:
            draft = mapping.map_row(row.values, "memo-test")
        except RowRejected as exc:
            out.append(("rejected", str(exc)))
            continue
        out.append(None if draft is None else (draft.source_record_id, draft.payload(), draft.meta, draft.occurred_at))
    return out


@pytest.mark.parametrize("source", ["stl_rms", "hou_cad", "chi_lpr", "brk_jail"])
def test_memo_maps_as_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    manifest = generate(tmp_path, 400, seed=3, sources=(source,), ground_truth=False)
    entry = manifest["sources"][source]
    path = tmp_path / entry["file"]
    profile_name = f"demo_{source}"
    memoised = _map_all(path, profile_name)
    monkeypatch.setattr(profile_module, "cell_outcome", lambda *args: None)
    general = _map_all(path, profile_name)
    assert len(memoised) > 100
    assert memoised == general
