"""No read path around the policy: any module that selects record content must compile
the policy filter or call the decision point, unless it is on the short, reasoned list
of write-side modules below."""

from __future__ import annotations

import re
from pathlib import Path

import fusionhub

ROOT = Path(fusionhub.__file__).parent
READS_RECORDS = re.compile(r"select\(\s*t\.record\b(?!_)|t\.record\.c\.payload|select\(\s*t\.record_version\b")
CONSULTS_POLICY = re.compile(r"\brecord_filter\(|\bdecide_read\(|\bRecordReader\(")
#: Modules that touch record rows to write them, never to show them, and why.
WRITE_SIDE = {
    "store/writer.py": "stores and versions records on import",
    "ingest/pipeline.py": "imports records",
    "policy/retention.py": "purges and validates under 28 CFR 23.20(h); shows metadata only, never content",
    "policy/redress.py": "applies an owning agency's correction as a new version",
    "policy/submission.py": "stores a submitted SAR, tip or intelligence record",
    "policy/compliance.py": "counts records for the compliance report; no content",
}


def test_every_record_reader_consults_the_policy() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        if not READS_RECORDS.search(source) or rel in WRITE_SIDE:
            continue
        if not CONSULTS_POLICY.search(source):
            offenders.append(rel)
    assert offenders == [], f"these modules read records without the policy: {offenders}"
