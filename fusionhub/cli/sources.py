"""``fusionhub agency add|list`` and ``fusionhub source add|list``."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, domain_errors, print_json
from fusionhub.ingest import sources

agency_app = typer.Typer(help="Agencies that own records and users.", no_args_is_help=True)
source_app = typer.Typer(help="Sources: the systems that send records.", no_args_is_help=True)


@agency_app.command("add")
def agency_add(
    code: str,
    name: str = typer.Option(None, help="Full name."),
    kind: str = typer.Option("law-enforcement", help=f"One of {', '.join(sources.AGENCY_KINDS)}."),
) -> None:
    """Add an agency."""
    with domain_errors():
        agency = sources.add_agency(STATE.store(), code, name, kind)
    typer.echo(f"agency {agency.code} added")


@agency_app.command("list")
def agency_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List agencies."""
    rows = sources.list_agencies(STATE.store())
    if as_json:
        print_json([{"code": a.code, "name": a.name, "kind": a.kind} for a in rows])
        return
    for a in rows:
        typer.echo(f"{a.code}\t{a.kind}\t{a.name}")


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
