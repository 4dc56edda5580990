"""``fusionhub resolve run|status|decide|decisions``: entity resolution over the store."""

from __future__ import annotations

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, fail, print_json

resolve_app = typer.Typer(help="Resolve entities across sources (a system process).", no_args_is_help=True)


@resolve_app.command("run")
def run_command(
    full: bool = typer.Option(False, "--full", help="Resolve everything again, not just the changes."),
    retrain: bool = typer.Option(False, "--retrain", help="Train a new model version first."),
    threshold: float = typer.Option(None, "--threshold", help="Match probability cut for this run."),
    spark: bool = typer.Option(False, "--spark", help="Run the model on Spark (local mode, or SPARK_REMOTE)."),
) -> None:
    """Resolve the records changed since the last run (or all, with --full)."""
    from fusionhub.resolve import resolver

    engine = None
    session = None
    if spark:
        from fusionhub.resolve.engine import SparkEngine, local_spark

        session = local_spark()
        engine = SparkEngine(session)
    try:
        with domain_errors():
            report = resolver.run(
                STATE.store(), full=full, retrain=retrain, engine=engine, threshold=threshold, user=STATE.user
            )
    finally:
        if session is not None:
            session.stop()
    print_json(report.to_json())


@resolve_app.command("status")
def status_command() -> None:
    """Where resolution stands: cursor against the store's change sequence, counts, model."""
    from fusionhub.resolve import resolver

    print_json(resolver.status(STATE.store()))


@resolve_app.command("decide")
def decide_command(
    kind: str = typer.Argument(..., help="confirm, not-same or split"),
    left: str = typer.Argument(..., help="Entity reference (an entity id inside a record)."),
    right: str = typer.Argument(None, help="The other entity reference (not for split)."),
    reason: str = typer.Option(..., "--reason", help="Why (audited)."),
) -> None:
    """Record an analyst's decision; it overrides the model on every later run."""
    from fusionhub.resolve import decisions

    actor = acting_actor()
    try:
        decision_id = decisions.decide(STATE.store(), actor, kind, left, right, reason)
    except decisions.DecisionError as exc:
        fail(str(exc))
    print_json({"decision": decision_id, "kind": kind, "takes_effect": "on the next `fusionhub resolve run`"})


@resolve_app.command("decisions")
def decisions_command(ref: str = typer.Argument(None, help="Only decisions about this entity reference.")) -> None:
    """List analysts' decisions, newest last."""
    from fusionhub.resolve import decisions

    acting_actor()
    print_json(decisions.history(STATE.store(), ref))


def register(app: typer.Typer) -> None:
    app.add_typer(resolve_app, name="resolve")
