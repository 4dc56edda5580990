"""The compliance report (privacy-guidelines.md §3): what the privacy officer and auditors
check, from the audit trail and the retention, dissemination, flag and redress records.

Counts and names of users only; never record content.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.policy.audit import record_event, verify
from fusionhub.policy.emergency import review_summary
from fusionhub.policy.identity import aware, training_current
from fusionhub.policy.reader import AccessDenied
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

READERS = ("privacy-officer", "auditor")
ACCESS_ACTIONS = ("record.view", "search", "record.list", "dissemination", "dissemination.emergency")
DENIAL_ACTIONS = (
    "record.view.denied",
    "access.denied",
    "submission.refused",
    "dissemination.refused",
    "dissemination.emergency.refused",
)


def build_report(
    store: Store,
    actor: Actor,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    if not actor.has(*READERS):
        raise AccessDenied("only privacy officers and auditors produce the compliance report")
    now = now or utcnow()
    e = pt.audit_event.c
    window = []
    if since:
        window.append(e.ts >= since.astimezone(now.tzinfo).isoformat(timespec="microseconds"))
    if until:
        window.append(e.ts <= until.astimezone(now.tzinfo).isoformat(timespec="microseconds"))
    policy = load_policy()
    with store.connect() as conn:
        users = {
            r.username: (sorted(r.roles or []), r.code, aware(r.training_date), bool(r.active))
            for r in conn.execute(
                select(
                    t.app_user.c.username,
                    t.app_user.c.roles,
                    t.app_user.c.training_date,
                    t.app_user.c.active,
                    t.agency.c.code,
                ).join(t.agency, t.agency.c.id == t.app_user.c.agency_id)
            )
        }
        accesses: Counter[tuple[str, str]] = Counter()
        for username, _action, count in conn.execute(
            select(e.username, e.action, func.count())
            .where(e.action.in_(ACCESS_ACTIONS), *window)
            .group_by(e.username, e.action)
        ):
            roles, agency, _, _ = users.get(username, (["unknown"], "unknown", None, False))
            for role in roles:
                accesses[(role, agency)] += int(count)
        denials = Counter(
            {
                action: int(count)
                for action, count in conn.execute(
                    select(e.action, func.count()).where(e.action.in_(DENIAL_ACTIONS), *window).group_by(e.action)
                )
            }
        )
        login_failures = int(
            conn.execute(select(func.count()).where(e.action == "login.failure", *window)).scalar_one()
        )
        p = pt.purge_log.c
        purge_window = [
            c
            for c in (p.purged_at >= since if since else None, p.purged_at <= until if until else None)
            if c is not None
        ]
        purged = Counter(
            {
                cls: int(n)
                for cls, n in conn.execute(
                    select(p.record_class, func.count()).where(*purge_window).group_by(p.record_class)
                )
            }
        )
        classes = list(policy.retention.get("validate_or_purge") or [])
        overdue = [
            int(i)
            for i in conn.execute(
                select(t.record.c.id).where(
                    t.record.c.record_class.in_(classes), t.record.c.status != "purged", t.record.c.review_due < now
                )
            ).scalars()
        ]
        f = pt.privacy_flag.c
        flag_window = [
            c
            for c in (f.created_at >= since if since else None, f.created_at <= until if until else None)
            if c is not None
        ]
        flags = Counter(
            {
                (kind, status): int(n)
                for kind, status, n in conn.execute(
                    select(f.kind, f.status, func.count()).where(*flag_window).group_by(f.kind, f.status)
                )
            }
        )
        q = pt.redress_request.c
        redress = Counter(
            {status: int(n) for status, n in conn.execute(select(q.status, func.count()).group_by(q.status))}
        )
        d = pt.dissemination.c
        disseminations = int(conn.execute(select(func.count()).select_from(pt.dissemination)).scalar_one())
        ci_disseminations = int(
            conn.execute(select(func.count()).where(d.record_class == "criminal-intelligence")).scalar_one()
        )
    lapsed = sorted(
        name
        for name, (roles, _agency, trained, active) in users.items()
        if active and set(roles) & RECORD_READERS and not training_current(trained, now)
    )
    chain = verify(store)
    report: dict[str, Any] = {
        "generated_at": now.isoformat(timespec="seconds"),
        "generated_by": actor.username,
        "from": since.isoformat() if since else None,
        "to": until.isoformat() if until else None,
        "policy": {"version": policy.version, "sha256": policy.sha256},
        "accesses_by_role_and_agency": [
            {"role": role, "agency": agency, "count": n} for (role, agency), n in sorted(accesses.items())
        ],
        "denials": dict(sorted(denials.items())),
        "login_failures": login_failures,
        "records_purged": dict(sorted(purged.items())),
        "reviews_overdue": {"count": len(overdue), "record_ids": overdue[:1000]},
        "users_with_lapsed_training": lapsed,
        "first_amendment_refusals": sum(n for (kind, _s), n in flags.items() if kind == "first-amendment-refusal"),
        "protected_wording_flags": {status: n for (kind, status), n in flags.items() if kind == "protected-wording"},
        "redress_requests": dict(sorted(redress.items())),
        "disseminations": {"total": disseminations, "criminal_intelligence": ci_disseminations},
        # 28 CFR 23.20(f)(2) releases stay here, with their open post-hoc reviews, until reviewed.
        "emergency_releases": review_summary(store, now),
        "audit_chain": {
            "ok": chain.ok,
            "events": chain.events,
            "first_bad": chain.first_bad,
            "problem": chain.problem,
            "checkpoint_seq": chain.checkpoint_seq,
        },
    }
    with store.begin() as conn:
        record_event(
            conn,
            actor,
            "compliance.report",
            None,
            {"from": report["from"], "to": report["to"], "chain_ok": chain.ok},
            now=now,
        )
    return report


def rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The report flattened to (section, item, value) rows, for CSV and PDF."""
    out: list[tuple[str, str, str]] = []
    for key, value in report.items():
        if key == "accesses_by_role_and_agency":
            out += [(key, f"{r['role']} @ {r['agency']}", str(r["count"])) for r in value]
        elif isinstance(value, dict):
            out += [(key, str(k), json.dumps(v) if isinstance(v, list | dict) else str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            out.append((key, "count", str(len(value))))
            out += [(key, "user", str(v)) for v in value]
        else:
            out.append((key, "", "" if value is None else str(value)))
    return out


def to_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "value"])
    writer.writerows(rows(report))
    return buffer.getvalue()


def to_pdf(report: dict[str, Any]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=letter, title="FusionHub compliance report")
    styles = getSampleStyleSheet()
    chain = report["audit_chain"]
    story: list[Any] = [
        Paragraph("FusionHub P/CRCL compliance report", styles["Title"]),
        Paragraph(
            f"Generated {report['generated_at']} by {report['generated_by']}; period "
            f"{report['from'] or 'beginning'} to {report['to'] or 'now'}; policy {report['policy']['version']}",
            styles["Normal"],
        ),
        Paragraph(
            "Audit chain: "
            + ("INTACT" if chain["ok"] else f"BROKEN at event {chain['first_bad']}: {chain['problem']}")
            + f" ({chain['events']} events)",
            styles["Heading2"],
        ),
        Spacer(1, 8),
    ]
    data = [["Section", "Item", "Value"]] + [[s.replace("_", " "), i, v[:80]] for s, i, v in rows(report)]
    table = Table(data, repeatRows=1, colWidths=[170, 170, 170])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return buffer.getvalue()
