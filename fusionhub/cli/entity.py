"""``fusionhub entity show ID``: the fused profile of a canonical entity."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, print_json

entity_app = typer.Typer(help="Resolved entities, as you may see them.", no_args_is_help=True)


@entity_app.command("show")
def show_command(
    entity_id: str,
    as_json: bool = typer.Option(False, "--json"),
    purpose: str = typer.Option(None, help="Why you look: a case number or a configured reason."),
) -> None:
    """Every attribute with its sources, conflicts side by side, records, events and a timeline."""
    from fusionhub.resolve.profile import entity_profile

    actor = acting_actor()
    with domain_errors():
        body = entity_profile(STATE.store(), actor, entity_id, purpose)
    if as_json:
        print_json(body)
        return
    typer.echo(f"{body['schema']} {body['id']}  {body['caption']}  ({len(body['records'])} records)")
    for prop, values in body["attributes"].items():
        mark = "  CONFLICT" if prop in body["conflicts"] else ""
        typer.echo(f"  {prop}:{mark}")
        for v in values:
            sources = ", ".join(
                f"{s['source']} #{s['record_id']} {s['reliability']}{s['validity']} {str(s['date'])[:10]}"
                for s in v["sources"]
            )
            typer.echo(f"    {v['value']}  <- {sources}")
    if body["related"]:
        typer.echo("  related:")
        for r in body["related"]:
            typer.echo(
                f"    {r['role']} {r['schema']} {r['caption']} ({r['canonical_id']}) in records {r['record_ids']}"
            )
    typer.echo("  timeline:")
    for item in body["timeline"]:
        typer.echo(f"    {str(item.get('date') or '')[:19]}  {item['what']}")
    for link in body["links"]:
        why = ""
        evidence = link.get("evidence") or {}
        if link["kind"] == "model":
            parts = sorted(evidence.get("comparisons", []), key=lambda c: -abs(c["weight"]))[:4]
            why = f" p={link['probability']:.4f}: " + ", ".join(
                f"{c['comparison']} {c['level']} {c['weight']:+.1f}" for c in parts
            )
        elif link["kind"] == "identifier":
            why = f": same {evidence.get('identifier')}"
        elif "reason" in evidence:
            why = f": {evidence['user']}: {evidence['reason']}"
        typer.echo(f"  joined {link['left']} + {link['right']} by {link['kind']}{why}")


def register(app: typer.Typer) -> None:
    app.add_typer(entity_app, name="entity")
