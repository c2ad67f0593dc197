"""The web application of ``ivp serve``: the report's own pages (``pipeline.report``), rendered on
request with the editing controls, and a small JSON API that saves each change at once.

URLs mirror the folder, so the pages' relative links to recordings work as in a static report
kept beside them: ``/ivp-report/index.html``, ``/ivp-report/interviews/<name>.html``,
``/ivp-report/study.html``, ``/ivp-report/assets/...``, and a recording at its path in the folder
(``/calls/ann.m4a``; media files only, inside the folder, links leaving it not followed).
``/interview/<name>`` is a short link to a page (``#t=83.5`` seeks there).

Every request must carry the run's secret token: the URL the server prints sets it as a cookie
(``HttpOnly``, ``SameSite=Strict``); a request that changes something must also send it in the
``X-IVP-Token`` header (a page of another site cannot), else 403 and nothing is changed. The Host
header must name this server (no DNS rebinding).
"""
from __future__ import annotations

import hmac
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import sidecar
from .. import edits_store as store
from ..errors import PipelineError, SidecarError
from ..interview import INTERVIEWEE, INTERVIEWER, ROLES
from ..recording.discover import inside, is_media_name
from ..report import fresh
from ..report.build import (ASSETS, DEFAULT_DIRNAME, PAGES_DIRNAME, BuildResult, Entry, collect, render_index,
                            render_interview, render_study)
from ..roles_cli import fix_roles
from ..study import studytoml

TOKEN_HEADER = "X-IVP-Token"
COOKIE = "ivp_token"
MAX_BODY = 1 << 20


@dataclass
class Served:
    """What one ``ivp serve`` run serves: the folder, its token, and the report's pages."""

    folder: Path
    token: str
    hosts: list[str]
    refresh_static: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: set = field(default_factory=set)  # changed files whose static reports wait for a rebuild
    _pending_lock: threading.Lock = field(default_factory=threading.Lock)

    def note_change(self, path: str) -> None:
        with self._pending_lock:
            self._pending.add(path)

    def take_changes(self) -> list[str]:
        with self._pending_lock:
            taken, self._pending = sorted(self._pending), set()
        return taken

    @property
    def out(self) -> Path:  # where the pages would be in a static report: the links are computed from it
        return self.folder / DEFAULT_DIRNAME

    def pages(self) -> BuildResult:
        return collect(self.folder, self.out)

    def entry(self, slug: str) -> Entry:
        for e in self.pages().entries:
            if e.slug == slug:
                return e
        raise LookupError(f"no interview {slug!r}")

    def editing(self, slug: Optional[str] = None) -> dict[str, Any]:
        sidecars, _ = sidecar.find_sidecars(self.folder, exclude=self.out)
        return {"token": self.token, "api": "/api", "slug": slug, "tags": store.folder_tags(sidecars)}


def create_app(served: Served) -> Starlette:
    """The application for ``served`` (uvicorn runs it; tests may too)."""

    def page(fn: Callable[[Request], Response]) -> Callable:
        def endpoint(request: Request) -> Response:
            refused = _refused(served, request, changes=False)
            if refused is not None:
                return refused
            if request.query_params.get("token"):  # the printed URL: keep the token as a cookie
                response = RedirectResponse(request.url.path, status_code=303)
                response.set_cookie(COOKIE, served.token, httponly=True, samesite="strict")
                return response
            return fn(request)
        return endpoint

    def api(fn: Callable[[dict], Any]) -> Callable:
        async def endpoint(request: Request) -> Response:
            refused = _refused(served, request, changes=True)
            if refused is not None:
                return refused
            raw = await request.body()
            if len(raw) > MAX_BODY:
                return JSONResponse({"error": "request too large"}, status_code=413)
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
                result = fn(body)
            except (LookupError, ValueError, TypeError, PipelineError) as exc:
                message = exc.line() if isinstance(exc, PipelineError) else " ".join(str(exc).split()).strip("'\"")
                return JSONResponse({"error": message}, status_code=400)
            task = BackgroundTask(_refresh_static, served, result.get("sidecar")) if served.refresh_static else None
            return JSONResponse({"ok": True, **{k: v for k, v in result.items() if k != "sidecar"}}, background=task)
        return endpoint

    def index(request: Request) -> Response:
        return HTMLResponse(render_index(served.pages(), served.editing()))

    def interview(request: Request) -> Response:
        try:
            e = served.entry(request.path_params["slug"])
        except LookupError:
            return PlainTextResponse("no such interview", status_code=404)
        return HTMLResponse(render_interview(e, served.editing(e.slug)))

    def study(request: Request) -> Response:
        result = served.pages()
        text = render_study(served.folder, served.out, result.entries, served.editing())
        return HTMLResponse(text or "<p>No interviews yet.</p>")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = ASSETS / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path)

    def short(request: Request) -> Response:
        return RedirectResponse(f"/{DEFAULT_DIRNAME}/{PAGES_DIRNAME}/{request.path_params['slug']}.html", status_code=302)

    def media(request: Request) -> Response:
        rel = request.path_params["path"]
        path = served.folder / rel
        if (not is_media_name(path.name) or any(p.startswith(".") for p in Path(rel).parts)
                or not path.is_file() or not inside(path, served.folder)):
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path)

    def root(request: Request) -> Response:
        return RedirectResponse(f"/{DEFAULT_DIRNAME}/index.html", status_code=302)

    routes = [
        Route("/", page(root)),
        Route(f"/{DEFAULT_DIRNAME}/", page(root)),
        Route(f"/{DEFAULT_DIRNAME}/index.html", page(index)),
        Route(f"/{DEFAULT_DIRNAME}/study.html", page(study)),
        Route(f"/{DEFAULT_DIRNAME}/{PAGES_DIRNAME}/{{slug}}.html", page(interview)),
        Route(f"/{DEFAULT_DIRNAME}/assets/{{name}}", page(asset)),
        Route("/interview/{slug}", page(short)),
        Route("/api/name", api(lambda b: _name(served, b)), methods=["POST"]),
        Route("/api/role", api(lambda b: _role(served, b)), methods=["POST"]),
        Route("/api/words", api(lambda b: _words(served, b)), methods=["POST"]),
        Route("/api/highlight", api(lambda b: _highlight(served, b)), methods=["POST"]),
        Route("/api/moment", api(lambda b: _moment(served, b)), methods=["POST"]),
        Route("/api/theme", api(lambda b: _theme(served, b)), methods=["POST"]),
        Route("/{path:path}", page(media)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=served.hosts)])


def _refused(served: Served, request: Request, changes: bool) -> Optional[Response]:
    """403 unless the request carries the token (a change: in the header)."""
    given = request.headers.get(TOKEN_HEADER, "")
    if not changes:
        given = given or request.cookies.get(COOKIE, "") or request.query_params.get("token", "")
    if given and hmac.compare_digest(given.encode(), served.token.encode()):
        return None
    why = ("a change needs the token of this ivp serve run in the X-IVP-Token header" if changes
           else "open the address ivp serve printed (it carries this run's token)")
    return (JSONResponse({"error": why}, status_code=403) if changes
            else PlainTextResponse(f"403 forbidden: {why}", status_code=403))


def _refresh_static(served: Served, path: Optional[str]) -> None:
    """After a change: the static report pages that exist are rebuilt. One rebuild at a time, and
    a burst of changes is one rebuild: a change made while a rebuild runs waits for the next."""
    if not path:
        return
    served.note_change(path)
    while served._pending and served._lock.acquire(blocking=False):  # else the running rebuild takes it
        try:
            _drain(served)
        finally:
            served._lock.release()


def _drain(served: Served) -> None:
    while served._pending:
        batch = served.take_changes()
        done: set = set()
        for changed in batch:
            reports = {out for _folder, out in fresh.reports_for(Path(changed))}
            if reports and reports <= done:
                continue
            done |= reports
            for line in fresh.refresh(Path(changed)):
                print(line, flush=True)


# ------------------------------------------------------------------------------------ changes

def _text(body: dict, key: str, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key}: text expected")
    return value


def _number(body: dict, key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value <= 1e6):
        raise ValueError(f"{key}: a time in seconds expected")
    return float(value)


def _tags(body: dict) -> list[str]:
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags: a list of text expected")
    return tags


def _sidecar_of(served: Served, body: dict) -> Path:
    return served.entry(_text(body, "slug")).sidecar


def _name(served: Served, body: dict) -> dict:
    path = _sidecar_of(served, body)
    store.set_name(path, _text(body, "speaker"), _text(body, "name", required=False))
    return {"sidecar": str(path)}


def _role(served: Served, body: dict) -> dict:
    """One click: a speaker on a side, the same fix as ``ivp roles`` (``roles_cli.fix_roles``)."""
    path = _sidecar_of(served, body)
    speaker, role = _text(body, "speaker"), _text(body, "role")
    if role not in ROLES:
        raise ValueError(f"role: {' or '.join(ROLES)}")
    iv = sidecar.read(path, edits=False)
    people = sorted({t.speaker for t in iv.turns})
    if speaker not in people:
        raise ValueError(f"no speaker {speaker!r} in this recording")
    lead = iv.roles.interviewer if iv.roles else None
    try:
        if len(people) == 2 and role == INTERVIEWER:
            fix_roles(path, interviewer=speaker)
        elif len(people) == 2 and role == INTERVIEWEE and speaker == lead:
            fix_roles(path, interviewer=next(p for p in people if p != speaker))
        else:
            fix_roles(path, sides={speaker: role})
    except Exception as exc:  # click.ClickException and the fix's ValueErrors: the reason, one line
        if isinstance(exc, (SidecarError, OSError)):
            raise
        raise ValueError(getattr(exc, "message", None) or str(exc)) from None
    return {"sidecar": str(path)}


def _words(served: Served, body: dict) -> dict:
    path = _sidecar_of(served, body)
    speaker = body.get("speaker") if isinstance(body.get("speaker"), str) else None
    wid = store.correct_words(path, _number(body, "start"), _number(body, "end"), _text(body, "old"),
                              _text(body, "new"), speaker)
    return {"sidecar": str(path), "id": wid}


def _highlight(served: Served, body: dict) -> dict:
    path = _sidecar_of(served, body)
    speaker = body.get("speaker") if isinstance(body.get("speaker"), str) else None
    hid = store.add_highlight(path, _number(body, "start"), _number(body, "end"), _text(body, "text"),
                              _tags(body), _text(body, "note", required=False), speaker)
    return {"sidecar": str(path), "id": hid}


def _moment(served: Served, body: dict) -> dict:
    path = _sidecar_of(served, body)
    action = _text(body, "action")
    if body.get("id"):  # a highlight a person added
        if action not in ("remove", "tag"):
            raise ValueError("action: remove or tag")
        store.change_highlight(path, _text(body, "id"), tags=_tags(body) if action == "tag" else None,
                               note=_text(body, "note", required=False) if action == "tag" else None,
                               remove=action == "remove")
    else:
        into = body.get("into")
        store.change_moment(path, _number(body, "start"), _text(body, "kind"), action, _tags(body),
                            _text(body, "note", required=False),
                            (_number(into, "start"), _text(into, "kind")) if isinstance(into, dict) else None)
    return {"sidecar": str(path)}


def _theme(served: Served, body: dict) -> dict:
    hide = body.get("hide")
    if hide is not None and not isinstance(hide, bool):
        raise ValueError("hide: true or false")
    name = body.get("name")
    merge = body.get("merge_into")
    if (name is not None and not isinstance(name, str)) or (merge is not None and not isinstance(merge, str)):
        raise ValueError("name and merge_into: text")
    path = studytoml.edit(served.folder, _text(body, "id"), name=name, hide=hide, merge_into=merge)
    return {"sidecar": os.fspath(path)}  # the reports of its folder are refreshed
