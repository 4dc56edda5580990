"""``fusionhub link LEFT.csv [RIGHT.csv] --profile FILE --out PAIRS.csv``: link or deduplicate files."""

from __future__ import annotations

from pathlib import Path

import typer

from fusionhub.cli.context import domain_errors, print_json


def link_command(
    left: Path = typer.Argument(..., help="A person file (deduplicated alone, or linked to RIGHT)."),
    right: Path = typer.Argument(None, help="A second file to link LEFT to."),
    profile: str = typer.Option(..., "--profile", help="Mapping profile (a shipped name such as febrl, or a file)."),
    out: Path = typer.Option(..., "--out", help="Where to write left_id,right_id,match_probability."),
    threshold: float = typer.Option(None, "--threshold", help="Match probability cut (default: the product's)."),
    clusters: Path = typer.Option(None, "--clusters", help="Also write record_id,cluster_id here."),
) -> None:
    """Link two files or deduplicate one with the product's own model (trained unsupervised)."""
    from fusionhub.ingest.profile import Profile
    from fusionhub.resolve import linkfiles
    from fusionhub.resolve.model import DEFAULT_THRESHOLD

    with domain_errors():
        mapping = Profile.load(profile)
        result = linkfiles.link(left, right, mapping, DEFAULT_THRESHOLD if threshold is None else threshold)
        linkfiles.write_pairs(result, out)
        if clusters is not None:
            linkfiles.write_clusters(result, clusters)
    print_json(
        {
            "mode": result.mode,
            "records": {side: len(ids) for side, ids in result.records.items()},
            "pairs": len(result.pairs),
            "clusters": len(set(result.clusters.values())),
            "threshold": result.threshold,
            "rejected": result.rejected,
            "seconds": result.seconds,
        }
    )


def register(app: typer.Typer) -> None:
    app.command("link")(link_command)
