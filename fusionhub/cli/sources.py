"""``fusionhub agency add|list`` and ``fusionhub source add|list``."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from fusionhub.cli.context import STATE, domain_errors, fail, managing_actor, print_json
from fusionhub.ingest import sources

agency_app = typer.Typer(help="Agencies that own records and users.", no_args_is_help=True)
source_app = typer.Typer(help="Sources: the systems that send records.", no_args_is_help=True)


@agency_app.command("add")
def agency_add(
    code: str,
    name: str = typer.Option(None, help="Full name."),
    kind: str = typer.Option("law-enforcement", help=f"One of {', '.join(sources.AGENCY_KINDS)}."),
    agreement_until: str = typer.Option(
        None,
        "--agreement-until",
        help="Its 28 CFR Part 23 participation agreement is valid until this date (YYYY-MM-DD); "
        "needed before it may receive disseminations. Acts as the administrator of --as.",
    ),
    agreement_ref: str = typer.Option(None, "--agreement-ref", help="The agreement's reference (MOU number)."),
) -> None:
    """Add an agency."""
    until = _date(agreement_until) if agreement_until else None
    by = managing_actor() if until else None
    with domain_errors():
        agency = sources.add_agency(STATE.store(), code, name, kind)
        if until:
            _record(agency.code, until, agreement_ref, by)
    typer.echo(f"agency {agency.code} added" + (f", participation agreement until {until}" if until else ""))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {text!r}", 2)


def _record(code: str, until: date, reference: str | None, by: Any) -> None:
    from fusionhub.policy.dissemination import record_agreement
    from fusionhub.policy.identity import operator_name

    record_agreement(
        STATE.store(), by, code, until, reference or f"participation agreement of {code}", by=operator_name()
    )


@agency_app.command("agreement")
def agency_agreement(
    code: str,
    until: str = typer.Option(..., "--until", help="Valid until (YYYY-MM-DD)."),
    reference: str = typer.Option(..., "--reference", help="The agreement's reference (MOU number)."),
) -> None:
    """Record an agency's 28 CFR Part 23 participation agreement (or its renewal)."""
    valid_until = _date(until)
    by = managing_actor()
    with domain_errors():
        _record(code, valid_until, reference, by)
    typer.echo(f"agency {code}: participation agreement {reference} valid until {valid_until}")


@agency_app.command("list")
def agency_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List agencies."""
    from fusionhub.policy.dissemination import agreements

    rows = sources.list_agencies(STATE.store())
    current = agreements(STATE.store())
    if as_json:
        print_json(
            [
                {
                    "code": a.code,
                    "name": a.name,
                    "kind": a.kind,
                    "agreement": current[a.code].to_json() if a.code in current else None,
                }
                for a in rows
            ]
        )
        return
    for a in rows:
        agreement = current.get(a.code)
        until = f"agreement until {agreement.valid_until}" if agreement else "no agreement"
        typer.echo(f"{a.code}\t{a.kind}\t{a.name}\t{until}")


@source_app.command("add")
def source_add(
    name: str,
    agency: str = typer.Option(..., help="Owning agency code."),
    kind: str = typer.Option(..., help="rms, cad, lpr, jail, private-sector, federal-feed, tip-line, ..."),
    system: str = typer.Option(None, help="System name (defaults to the source name)."),
    reliability: str = typer.Option(None, help="Default source reliability A-F."),
    validity: str = typer.Option(None, help="Default content validity 1-6."),
    caveat: str = typer.Option(None, help="Default handling caveat, e.g. 'TLP:AMBER LES'."),
    record_class: str = typer.Option(None, "--class", help="Record class of what it sends."),
    profile: str = typer.Option(None, help="Mapping profile (shipped name or file)."),
    terms: list[str] = typer.Option(
        [],
        "--terms",
        help="Sharing term: law_enforcement_only, no_private_sector, agency_only, originator_approval (no-X: off).",
    ),
    create_agency: bool = typer.Option(False, "--create-agency", help="Add the agency if it does not exist."),
) -> None:
    """Register a source."""
    sharing = {term.removeprefix("no-"): not term.startswith("no-") for term in terms}
    with domain_errors():
        source = sources.add_source(
            STATE.store(),
            name,
            agency,
            kind,
            system,
            reliability,
            validity,
            caveat,
            record_class,
            sharing,
            profile,
            create_agency,
        )
    typer.echo(f"source {source.name} added ({source.kind}, {source.record_class}, TLP:{source.default_tlp})")


@source_app.command("list")
def source_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List sources."""
    rows = sources.list_sources(STATE.store())
    if as_json:
        print_json([s.to_json() for s in rows])
        return
    for s in rows:
        caveat = " ".join([f"TLP:{s.default_tlp}", *s.default_handling])
        typer.echo(
            f"{s.name}\t{s.agency}\t{s.kind}\t{s.record_class}\t{s.default_reliability}{s.default_validity}\t{caveat}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(agency_app, name="agency")
    app.add_typer(source_app, name="source")
