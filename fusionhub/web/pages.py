"""Page plumbing: templates, the logged-in actor of a page, login with TOTP, error pages.

Pages call the same domain functions as the API; they add only HTML. A page that
needs a login redirects to ``/login``; a form posted with the session cookie must
carry the CSRF token (checked by the same code as the API's).
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from fusionhub.api.deps import CSRF_COOKIE, SESSION_COOKIE, auth_module, check_csrf, get_store, session_actor
from fusionhub.api.errors import ApiError
from fusionhub.api.session import end_session, start_session
from fusionhub.policy.actor import Actor
from fusionhub.web import assets
from fusionhub.web.caveats import WORKSPACE_CAVEAT

templates = Jinja2Templates(directory=str(assets.HERE / "templates"))
router = APIRouter(include_in_schema=False)
ENROLMENT_SECONDS = 600


class LoginRedirect(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


async def page_actor(request: Request) -> Actor:
    """The logged-in actor of a page; anyone else is sent to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise LoginRedirect(target)
    auth = auth_module()
    try:
        actor: Actor = session_actor(request, token)
    except auth.AuthError as exc:
        raise LoginRedirect(target) from exc
    await check_csrf(request)
    request.state.actor = actor
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def require(actor: Actor, *roles: str) -> None:
    if not actor.has(*roles):
        raise ApiError(403, "role_required", f"this page needs one of the roles: {', '.join(roles)}")


def nav(request: Request, actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return []
    paths: set[str] = getattr(request.app.state, "page_paths", set())
    items = [("/", "Dashboard")]
    optional = [
        ("/search", "Search", ()),
        ("/records", "Records", ()),
        ("/graph", "Link chart", ("analyst", "supervisor", "privacy-officer", "field-user", "partner")),
        ("/sources", "Sources", ()),
        ("/imports", "Imports", ("analyst", "supervisor", "administrator", "privacy-officer")),
        ("/audit", "Audit", ("auditor", "privacy-officer")),
        ("/retention", "Retention", ("privacy-officer", "supervisor")),
        ("/redress", "Redress", ("analyst", "supervisor", "privacy-officer", "field-user", "partner", "auditor")),
        ("/compliance", "Compliance", ("privacy-officer", "auditor")),
        ("/disseminations", "Dissemination", ("analyst", "supervisor", "privacy-officer", "auditor")),
        ("/admin", "Administration", ("administrator",)),
    ]
    for path, label, roles in optional:
        if path in paths and (not roles or actor.has(*roles)):
            items.append((path, label))
    return items


def render(
    request: Request,
    name: str,
    actor: Actor | None,
    title: str,
    caveat: str = WORKSPACE_CAVEAT,
    purpose: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page; every page shows the handling caveat of what it shows and the purpose."""
    body = {
        "actor": actor,
        "title": title,
        "caveat": caveat,
        "purpose": purpose,
        "nav": nav(request, actor),
        "csrf_token": request.cookies.get(CSRF_COOKIE, ""),
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(request, name, body, status_code=status)


async def error_page(request: Request, status: int, code: str, message: str) -> Response:
    actor = getattr(request.state, "actor", None)
    return render(request, "error.html", actor, f"Error {status}", status=status, code=code, message=message)


# -- the stated purpose ------------------------------------------------------------
PURPOSE_COOKIE = "fh_purpose"


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def stated_purpose(request: Request) -> str | None:
    """The purpose the analyst stated last (kept for the session's pages), if any."""
    return request.cookies.get(PURPOSE_COOKIE) or None


def remember_purpose(request: Request, response: Response, purpose: str) -> None:
    from fusionhub.policy.reader import check_purpose

    secure = bool(getattr(request.app.state, "secure_cookies", True))
    response.set_cookie(
        PURPOSE_COOKIE, check_purpose(purpose), httponly=True, secure=secure, samesite="strict", path="/"
    )


def purpose_form(request: Request, actor: Actor, message: str, given: str | None) -> HTMLResponse:
    """Ask for the purpose a record view or person search needs, then come back here."""
    from fusionhub.policy.rules import load_policy

    return render(
        request,
        "purpose.html",
        actor,
        "State your purpose",
        status=403,
        message=message,
        given=given or "",
        reasons=load_policy().reasons,
        target=request.url.path,
    )


# -- login, TOTP enrolment, logout -------------------------------------------------


def _login_page(
    request: Request, error: str | None = None, status: int = 200, username: str = "", notice: str | None = None
) -> HTMLResponse:
    # A login form gets its own CSRF token before any session exists (login CSRF).
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    target = _safe_next(request.query_params.get("next"))
    response = render(
        request,
        "login.html",
        None,
        "Log in",
        status=status,
        error=error,
        username=username,
        csrf_token=token,
        next=target,
        notice=notice,
    )
    if not request.cookies.get(CSRF_COOKIE):
        secure = bool(getattr(request.app.state, "secure_cookies", True))
        response.set_cookie(CSRF_COOKIE, token, httponly=True, secure=secure, samesite="strict", path="/")
    return response


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a link send users elsewhere after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    totp_code: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    await check_csrf(request)
    auth = auth_module()
    store = get_store(request)
    ip = request.client.host if request.client else None
    try:
        actor = auth.login(store, username, password, totp_code.strip(), ip=ip)
    except auth.MfaRequired as exc:
        if getattr(exc, "enrol", False):
            return _start_enrolment(request, username)
        return _login_page(request, "Enter the six-digit code from your authenticator app.", 401, username)
    except auth.AccountLocked as exc:
        return _login_page(request, str(exc) or "The account is locked; try again later.", 423, username)
    except auth.TrainingLapsed as exc:
        return _login_page(request, str(exc) or "Your privacy training has lapsed.", 403, username)
    except auth.AuthError:
        return _login_page(request, "The username, password or code is wrong.", 401, username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, actor)
    return response


def _pending(request: Request) -> dict[str, tuple[str, float]]:
    pending: dict[str, tuple[str, float]] | None = getattr(request.app.state, "enrolments", None)
    if pending is None:
        pending = {}
        request.app.state.enrolments = pending
    now = time.monotonic()
    for key in [k for k, (_, expires) in pending.items() if expires < now]:
        pending.pop(key, None)
    return pending


def _qr_data_uri(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _start_enrolment(request: Request, username: str, error: str | None = None) -> HTMLResponse:
    """The password was right but no second factor is set up: enrol one now."""
    secret, uri = auth_module().enroll_totp(get_store(request), username)
    nonce = secrets.token_urlsafe(24)
    _pending(request)[nonce] = (username, time.monotonic() + ENROLMENT_SECONDS)
    return render(
        request,
        "enrol.html",
        None,
        "Set up your second factor",
        nonce=nonce,
        secret=secret,
        qr=_qr_data_uri(uri),
        username=username,
        error=error,
    )


@router.post("/login/enrol")
async def enrol_submit(
    request: Request,
    nonce: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    totp_code: Annotated[str, Form(max_length=16)],
) -> Response:
    await check_csrf(request)
    pending = _pending(request).pop(nonce, None)
    if pending is None:
        return _login_page(request, "The enrolment expired; log in again to restart it.", 400)
    username = pending[0]
    auth = auth_module()
    store = get_store(request)
    ip = request.client.host if request.client else None
    try:
        # The password is checked again here: the enrolment form must not be a way past it.
        auth.login(store, username, password, None, ip=ip)
    except auth.MfaRequired:
        pass  # the password was right; the second factor is what is being set up
    except auth.AuthError as exc:
        return _login_page(request, str(exc) or "The username or password is wrong.", 401, username)
    try:
        auth.confirm_totp(store, username, totp_code.strip())
    except auth.AuthError:
        return _start_enrolment(request, username, "That code did not match; scan this new code and try again.")
    # A code is accepted once only (replay protection), so the login takes the app's next code.
    return _login_page(
        request, None, 200, username, notice="Your authenticator app is set up. Log in with its next code."
    )


@router.post("/logout")
async def logout(request: Request, _actor: PageActor) -> Response:
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    return response


@router.get("/basemap/stl_neighborhoods.geojson")
def basemap(_actor: PageActor) -> Response:
    return assets.basemap_response()


def extra_routers() -> list[APIRouter]:
    """Page modules of domains that land separately (search, audit, retention, ...):
    every ``fusionhub.web.views`` module with a ``router``; one whose domain is missing
    in this build (ImportError) is left out."""
    import importlib
    import pkgutil

    from fusionhub.web import views

    found = []
    for info in sorted(pkgutil.iter_modules(views.__path__), key=lambda m: m.name):
        try:
            module = importlib.import_module(f"{views.__name__}.{info.name}")
        except ImportError:
            continue
        if isinstance(getattr(module, "router", None), APIRouter):
            found.append(module.router)
    return found


def install(app: FastAPI) -> None:
    from fusionhub.web import workspace

    async def to_login(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRedirect)
        return RedirectResponse(f"/login?next={quote(exc.target)}", status_code=303)

    app.add_exception_handler(LoginRedirect, to_login)
    page_paths: set[str] = set()
    for page_router in (router, workspace.router, *extra_routers()):
        app.include_router(page_router)
        page_paths.update(str(getattr(r, "path", "")) for r in page_router.routes)
    # The navigation offers the pages this build has (a domain not landed has none).
    app.state.page_paths = page_paths
    assets.mount(app)
