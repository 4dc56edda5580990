"""The audit checkpoint file is overwritten in place: one JSON document, never older."""

from __future__ import annotations

import json
from pathlib import Path

from fusionhub.policy.audit import CHECKPOINT_BYTES, ChainConfig, read_checkpoint, write_checkpoint


def _config(tmp_path: Path) -> ChainConfig:
    return ChainConfig(b"k" * 32, tmp_path / "audit-checkpoint.json")


def test_written_in_place_as_one_document(tmp_path: Path) -> None:
    config = _config(tmp_path)
    write_checkpoint(config, 5, "a" * 64)
    point = read_checkpoint(config)
    assert point is not None and (point.seq, point.hash) == (5, "a" * 64)
    assert config.checkpoint.stat().st_size == CHECKPOINT_BYTES
    assert json.loads(config.checkpoint.read_text())["seq"] == 5  # padding is whitespace
    write_checkpoint(config, 9, "b" * 64)
    point = read_checkpoint(config)
    assert point is not None and (point.seq, point.hash) == (9, "b" * 64)


def test_never_moves_backwards(tmp_path: Path) -> None:
    config = _config(tmp_path)
    write_checkpoint(config, 9, "b" * 64)
    write_checkpoint(config, 3, "c" * 64)
    point = read_checkpoint(config)
    assert point is not None and point.seq == 9


def test_a_longer_file_left_by_another_writer_is_replaced_whole(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.checkpoint.write_text(json.dumps({"seq": 1, "note": "x" * 4000}))
    write_checkpoint(config, 2, "d" * 64)
    point = read_checkpoint(config)
    assert point is not None and point.seq == 2
    assert config.checkpoint.stat().st_size == CHECKPOINT_BYTES
