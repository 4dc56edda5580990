"""The index catches up by itself after a crash between the store's and its own commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fusionhub.policy.reader import RecordReader
from fusionhub.search import follower
from fusionhub.search.follower import catch_up, engine_for, rebuild
from fusionhub.search.service import search
from fusionhub.store import Store
from tests import factories
from tests.search.conftest import Draft, Put, entity

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from fusionhub.ingest.sources import get_source
    from fusionhub.search.follower import catch_up
    from fusionhub.store import Store
    from tests.search.conftest import Draft, entity, put_records

    store = Store(sys.argv[1])
    source = get_source(store, "rms-a")
    drafts = [Draft(f"k{i}", [entity("Person", name=f"KILLED MIDWAY{i}")]) for i in range(300)]
    put_records(store, source, drafts, index=False)  # committed in the store

    def die(done, seq):
        # Documents are in the index writer but not committed: the worst moment to die.
        os.kill(os.getpid(), signal.SIGKILL)

    catch_up(store, progress=die)
    """
)


def test_sigkill_between_store_commit_and_index_commit(store: Store, put: Put) -> None:
    source = factories.source(store, "rms-a", "PDA", "rms")
    put(store, source, [Draft("first", [entity("Person", name="BEFORE THECRASH")])])
    actor = factories.user(store, "ana", "PDA")
    assert search(store, actor, "name:thecrash", purpose="case 24-001").total == 1
    follower._ENGINES.clear()  # the child process writes the index; let this one reopen it
    url = store.engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url], cwd=REPO, env={**os.environ}, capture_output=True, text=True, timeout=300
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    engine = engine_for(store)
    assert engine.cursor() < store.last_seq()  # the index lost the uncommitted work
    # The next search catches up first: no committed record is missing.
    result = search(store, actor, "name:midway", limit=0, purpose="case 24-001")
    assert result.total == 300
    assert engine.cursor() == store.last_seq()
    assert search(store, actor, "", limit=0, purpose="case 24-001").total == RecordReader(store, actor).count() == 301


def test_rebuild_recreates_the_index_from_the_store(store: Store, put: Put) -> None:
    source = factories.source(store, "rms-a", "PDA", "rms")
    put(store, source, [Draft(f"r{i}", [entity("Person", name=f"REBUILT PERSON{i}")]) for i in range(20)])
    actor = factories.user(store, "ana", "PDA")
    engine = engine_for(store)
    engine.clear()
    assert (
        search(store, actor, "name:rebuilt", limit=0, purpose="case 24-001").total == 20
    )  # cleared to cursor 0: caught up again
    assert rebuild(store) == 20
    assert engine.stats()["documents"] == 20
    assert catch_up(store) == 0


def test_a_busy_index_is_left_to_the_process_writing_it(store: Store, put: Put) -> None:
    source = factories.source(store, "rms-a", "PDA", "rms")
    engine = engine_for(store)
    with engine.writer():  # another indexer at work
        put(store, source, [Draft("x", [entity("Person", name="WAITING TURN")])])  # its follower finds it busy
        assert catch_up(store) == 0
    assert engine.cursor() < store.last_seq()
    assert catch_up(store) == 1
