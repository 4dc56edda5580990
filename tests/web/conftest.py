"""Browser tests: the real app on a loopback port over a real SQLite store, driven by the
distribution's Chromium through Playwright. Screenshots go to test-artefacts/screenshots/.

Chromium is installed with apt-get by the test command (scripts/setup.sh) when missing;
these tests fail loudly, not skip, if it is not there.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fusionhub.api import create_app
from fusionhub.config import Settings
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.store import Store
from tests import factories
from tests.conftest import DATA
from tests.resolve.conftest import persons, trained_model
from tests.weblogin import PASSWORD, account, code  # skips the module until auth is installed

__all__ = ["persons", "trained_model"]  # session fixtures of tests/resolve, for the fusion pages
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = REPO / "test-artefacts" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PROFILE = Path(__file__).with_name("slmpd_test_profile.yaml")
SLMPD = DATA / "incidents" / "stlouis_slmpd" / "2019-january2019.csv"
DESKTOP = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slmpd_slice(target: Path, start: int, rows: int) -> Path:
    """``rows`` data rows of a real SLMPD monthly file (header kept), written to ``target``."""
    lines = SLMPD.read_text(encoding="latin-1").splitlines()
    target.write_text("\n".join([lines[0], *lines[1 + start : 1 + start + rows]]) + "\n", encoding="latin-1")
    return target


class Site:
    def __init__(self, url: str, store: Store, secrets: dict[str, str], workdir: Path) -> None:
        self.url = url
        self.store = store
        self.secrets = secrets
        self.workdir = workdir
        self.states: dict[str, Any] = {}


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    workdir = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{workdir / 'web.db'}"
    store = Store(url, settings=Settings(store_url=url, data_dir=workdir))
    store.init()
    factories.source(store, "slmpd", "SLMPD", profile=str(PROFILE), reliability="B", validity="2")
    factories.agency(store, "PD2")
    secrets = {
        "ana": account(store, "ana", ("analyst",), "SLMPD"),
        "root": account(store, "root", ("administrator",), "SLMPD"),
        "aud": account(store, "aud", ("auditor",), "SLMPD"),
        "po": account(store, "po", ("privacy-officer",), "SLMPD"),
        "eve": account(store, "eve", ("analyst",), "SLMPD"),
    }
    factories.user(store, "newbie", "SLMPD", ("analyst",))
    from fusionhub.policy import auth

    auth.set_password(store, "newbie", PASSWORD)
    ingest_file(store, slmpd_slice(workdir / "seed.csv", 0, 60), "slmpd", user="ana")
    app = create_app(store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", store, secrets, workdir)
    server.should_exit = True
    thread.join(timeout=30)
    store.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh as root (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors (CSP violations among them) and failed requests are kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def log_in(page: Any, site: Site, name: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(code(site.secrets[name]))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/")


@pytest.fixture
def as_user(site: Site, browser: Any) -> Iterator[Any]:
    """``as_user("ana")`` -> a Watched page logged in as ana (one login per user per run)."""
    contexts: list[Any] = []

    def make(name: str, viewport: dict[str, int] | None = None) -> Watched:
        state = site.states.get(name)
        context = browser.new_context(viewport=viewport or DESKTOP, storage_state=state)
        contexts.append(context)
        watched = Watched(context.new_page())
        if state is None:
            log_in(watched.page, site, name)
            site.states[name] = context.storage_state()
        return watched

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page (axe from node_modules)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check_page(watched: Watched, name: str) -> Path:
    """Screenshot, accessibility and a clean console for the page as it stands."""
    page = watched.page
    page.wait_for_load_state("networkidle")
    shot = screenshot(page, name)
    violations = axe_violations(page)
    assert violations == [], violations
    assert page.locator(".caveat").first.inner_text().strip()
    assert watched.errors == [], watched.errors
    return shot


class Linked:
    """Resolved entities in the site's store (tests/graph/seed.py): canonical ids by name."""

    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


@pytest.fixture(scope="session")
def linked(site: Site, trained_model: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Linked:
    """The link-analysis world in the site's store: shared by SLMPD (the test users'
    agency), one tie only an agency-only source of PD2 states; everything resolved."""
    from tests.graph.seed import person, seed_link_world

    seed_link_world(site.store, tmp_path_factory.mktemp("linked"), trained_model, agency="SLMPD", hidden_agency="PD2")
    names = {"ann": ("C1", "RIVERA"), "bob": ("C2", "KOWALSKI"), "cal": ("C2", "OKAFOR"), "dee": ("C3", "NAKAMURA")}
    return Linked({name: person(site.store, case, surname) for name, (case, surname) in names.items()})
