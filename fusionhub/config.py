"""Settings: one place, read from the environment (``FUSIONHUB_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_STORE = "sqlite:///fusionhub.db"


@dataclass(frozen=True)
class Settings:
    store_url: str = DEFAULT_STORE
    #: Folder for derived indexes and the audit checkpoint, beside a SQLite file by default.
    data_dir: Path = field(default_factory=lambda: Path("."))
    batch_size: int = 5000
    max_upload_bytes: int = 2 * 1024**3
    #: Longest single field the CSV reader accepts (bytes); longer rows are quarantined.
    max_field_bytes: int = 64 * 1024 * 1024
    #: HMAC key of the audit chain (``FUSIONHUB_AUDIT_KEY``); when unset, read from
    #: ``audit_key_file``, which ``fusionhub init`` creates with mode 0600.
    audit_key: str | None = None
    #: Key file; defaults to ``<data_dir>/audit.key``.
    audit_key_path: Path | None = None
    #: Where the newest audit chain head is checkpointed outside the database
    #: (``FUSIONHUB_AUDIT_CHECKPOINT``); defaults to ``<data_dir>/audit-checkpoint.json``.
    audit_checkpoint_path: Path | None = None
    #: The privacy policy file (``FUSIONHUB_POLICY``); defaults to the shipped policy.yaml.
    policy_path: Path | None = None

    @property
    def audit_key_file(self) -> Path:
        return self.audit_key_path or self.data_dir / "audit.key"

    @property
    def audit_checkpoint(self) -> Path:
        return self.audit_checkpoint_path or self.data_dir / "audit-checkpoint.json"

    @classmethod
    def from_env(cls, store_url: str | None = None) -> Settings:
        url = store_url or os.environ.get("FUSIONHUB_STORE") or DEFAULT_STORE
        data_dir = os.environ.get("FUSIONHUB_DATA")
        if data_dir:
            directory = Path(data_dir)
        elif url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            directory = Path(url.removeprefix("sqlite:///")).resolve().parent
        else:
            directory = Path(".").resolve()
        return cls(
            store_url=url,
            data_dir=directory,
            batch_size=int(os.environ.get("FUSIONHUB_BATCH_SIZE", "5000")),
            audit_key=os.environ.get("FUSIONHUB_AUDIT_KEY") or None,
            audit_key_path=_path(os.environ.get("FUSIONHUB_AUDIT_KEY_FILE")),
            audit_checkpoint_path=_path(os.environ.get("FUSIONHUB_AUDIT_CHECKPOINT")),
            policy_path=_path(os.environ.get("FUSIONHUB_POLICY")),
        )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
