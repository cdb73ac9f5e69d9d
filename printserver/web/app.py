"""The console's ASGI app: server-rendered pages (Jinja2), the JSON API they use, and the actions.

Pages read only through printserver.views (the job index, transcripts, printers, audit): never live
association objects. The JSON API under /api is the one the pages' script uses, so scripts and
monitoring get the same data (docs/console.md lists it). Job IDs and AE titles are the only things in
URLs; patient data never is.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from printserver.config import ServerConfig
from printserver.outputs.health import HealthCache
from printserver.views import acceptance, audit, printers
from printserver.views.acceptance_pdf import acceptance_pdf
from printserver.views.jobs import JobFilter, JobIndex
from printserver.views.previews import preview_dir
from printserver.views.transcripts import TranscriptStore, findings_json, modality_told, status_words
from printserver.web.auth import CSRF_HEADER, SESSION_COOKIE, SESSION_SECONDS, Auth, Viewer

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
_ID = re.compile(r"^[0-9A-Za-z_-][0-9A-Za-z._-]{0,127}$")
ACTIONS = ("retry", "cancel", "reprint")
LOGIN_FAILURE_DELAY = 1.0

#: (action, job ID, printer for a re-print or "", who) -> (ok, message); the server's admin thread does it
Admin = Callable[[str, str, str, str], tuple[bool, str]]


@dataclass
class ConsoleState:
    spool_root: Path
    config: ServerConfig
    auth: Auth
    admin: Admin
    health: HealthCache | None = None
    index: JobIndex = field(init=False)
    transcripts: TranscriptStore = field(init=False)

    def __post_init__(self) -> None:
        self.index = JobIndex(self.spool_root, self.config)
        self.transcripts = TranscriptStore(self.spool_root)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["status_words"] = status_words
    env.filters["q"] = lambda s: quote(str(s), safe="")
    return env


class Guard(BaseHTTPMiddleware):
    """Login where required, CSRF on every POST, and headers that keep the pages to themselves."""

    def __init__(self, app: Any, auth: Auth) -> None:
        super().__init__(app)
        self.auth = auth

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        client = request.client.host if request.client else "?"
        viewer = self.auth.viewer(request.cookies.get(SESSION_COOKIE, ""),
                                  request.headers.get("authorization", ""), client)
        if viewer is None and path != "/login" and not path.startswith("/static/"):
            if path.startswith("/api/"):
                return JSONResponse({"error": "login required"}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        if viewer is not None and request.method == "POST" and path != "/login" \
                and not self.auth.csrf_valid(viewer, request.headers.get(CSRF_HEADER, "")):
            return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
        request.state.viewer = viewer
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(state: ConsoleState) -> Starlette:
    env = _env()

    def page(request: Request, template: str, **context: Any) -> HTMLResponse:
        viewer: Viewer | None = request.state.viewer
        html = env.get_template(template).render(
            request=request, csrf=state.auth.csrf_token(viewer) if viewer else "", login=state.auth.required,
            viewer=viewer, can_act=viewer is not None and viewer.admin,
            printers_configured=[p.ae_title for p in state.config.printers], **context)
        return HTMLResponse(html)

    def job_id(request: Request) -> str:
        value = request.path_params["job_id"]
        if not _ID.match(value):
            raise _NotFound
        return str(value)

    def job_filter(request: Request, body: dict[str, Any] | None = None) -> JobFilter:
        q: Any = body if body is not None else request.query_params

        def number(name: str, default: int) -> int:
            try:
                return int(q.get(name, default))
            except ValueError:
                return default
        return JobFilter(printer=q.get("printer", ""), calling_ae=q.get("calling_ae", ""), date=q.get("date", ""),
                         state=q.get("state", ""), text=q.get("text", ""), page=number("page", 1),
                         per_page=number("per_page", 50), identity=str(q.get("identity", "")) if body else "")

    # --- pages ------------------------------------------------------------------------------------

    def jobs_page(request: Request) -> Response:
        return page(request, "jobs.html", facets=state.index.facets(), f=job_filter(request))

    def job_page(request: Request) -> Response:
        job = state.index.get(job_id(request))
        if job is None:
            return page(request, "missing.html", what=f"job {job_id(request)}")
        transcripts = [state.transcripts.load(h["id"]) for h in state.transcripts.for_job(job["job_uid"])]
        shown = [(t, findings_json(t)) for t in transcripts if t is not None]
        told = [told for t, _ in shown for told in modality_told(t, job["job_uid"])]
        return page(request, "job.html", job=job, transcripts=shown, told=told)

    def transcripts_page(request: Request) -> Response:
        headers = state.transcripts.headers()[:500]
        for h in headers:
            h["job_ids"] = [state.index.job_id_for_uid(uid) for uid in h.get("job_uids", [])]
        return page(request, "transcripts.html", transcripts=headers)

    def transcript_page(request: Request) -> Response:
        t = state.transcripts.load(request.path_params["tid"])
        if t is None:
            return page(request, "missing.html", what="association")
        jobs = [state.index.job_id_for_uid(uid) for uid in t.get("job_uids", [])]
        return page(request, "transcript.html", t=t, found=findings_json(t), job_ids=jobs)

    def printers_page(request: Request) -> Response:
        return page(request, "printers.html", printers=printers_data())

    def acceptance_index(request: Request) -> Response:
        aes: dict[str, int] = {}
        for h in state.transcripts.headers():
            aes[h.get("calling_ae", "")] = aes.get(h.get("calling_ae", ""), 0) + 1
        return page(request, "acceptance_index.html", aes=sorted(aes.items()))

    def acceptance_page(request: Request) -> Response:
        ae = request.path_params["ae"]
        r = acceptance.report(ae, state.transcripts.for_calling_ae(ae))
        name = re.sub(r"[^A-Za-z0-9_-]", "_", ae) or "AE"
        if request.url.path.endswith("/report.md"):
            return Response(acceptance.markdown(r), media_type="text/markdown; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="acceptance-{name}.md"'})
        if request.url.path.endswith("/report.pdf"):
            disposition = "attachment" if request.query_params.get("download") else "inline"
            return Response(acceptance_pdf(r), media_type="application/pdf",
                            headers={"Content-Disposition": f'{disposition}; filename="acceptance-{name}.pdf"'})
        return page(request, "acceptance.html", r=r)

    def audit_page(request: Request) -> Response:
        return page(request, "audit.html", entries=audit.entries(state.spool_root))

    async def login(request: Request) -> Response:
        def form_page(error: str, status: int = 200) -> HTMLResponse:
            html = env.get_template("login.html").render(error=error, users=bool(state.auth.users),
                                                         token=bool(state.auth.token))
            return HTMLResponse(html, status_code=status)

        if request.method != "POST":
            return form_page("")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name, password = form.get("name", [""])[0], form.get("password", [""])[0]
        if name:
            user = await run_in_threadpool(state.auth.check_user, name, password)  # scrypt: off the event loop
            session = state.auth.new_session(user=user.name) if user is not None else ""
        else:
            session = state.auth.new_session() if state.auth.check_token(form.get("token", [""])[0]) else ""
        client = request.client.host if request.client else "?"
        if not session:
            log.warning("console login refused: %s from %s", f"user {name!r}" if name else "token", client)
            await asyncio.sleep(LOGIN_FAILURE_DELAY)  # guessing online costs time too
            return form_page("Wrong name or password." if name else "Wrong token.", 401)
        log.info("console login: %s from %s", f"user {name!r}" if name else "token", client)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    def logout(request: Request) -> Response:
        state.auth.end_session(request.cookies.get(SESSION_COOKIE, ""))
        response = JSONResponse({"logged_out": True})
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- files ------------------------------------------------------------------------------------

    def film_png(request: Request) -> Response:
        kind = "thumb" if request.query_params.get("size") == "thumb" else "film"
        path = preview_dir(state.spool_root, job_id(request)) / f"{kind}-{int(request.path_params['n'])}.png"
        if not path.is_file():
            return Response("no preview", status_code=404)
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})

    def job_pdf(request: Request) -> Response:
        job = state.index.get(job_id(request))
        n = int(request.path_params["n"])
        if job is None or not 0 <= n < len(job["pdfs"]) or not Path(job["pdfs"][n]).is_file():
            return Response("no such PDF", status_code=404)
        path = Path(job["pdfs"][n])
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return FileResponse(path, media_type="application/pdf",
                            headers={"Content-Disposition": f'{disposition}; filename="{path.name}"'})

    # --- JSON API ---------------------------------------------------------------------------------

    def jobs_answer(f: JobFilter, since: Any) -> Response:
        state.index.refresh()
        if since is not None and str(since) == str(state.index.version):
            return JSONResponse({"unchanged": True, "version": state.index.version})
        result = state.index.list(f)
        return JSONResponse({"jobs": result.jobs, "total": result.total, "page": result.page,
                             "pages": result.pages, "version": result.version})

    def api_jobs(request: Request) -> Response:
        if "identity" in request.query_params:
            return JSONResponse({"error": "patient data never goes in a URL: POST /api/jobs/query"}, status_code=400)
        return jobs_answer(job_filter(request), request.query_params.get("since"))

    async def api_jobs_query(request: Request) -> Response:
        """The job list for a filter in the body (the page uses this: a patient ID never appears in a URL)."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": "send the filter as a JSON object"}, status_code=400)
        return await run_in_threadpool(jobs_answer, job_filter(request, body), body.get("since"))

    def api_job(request: Request) -> Response:
        job = state.index.get(job_id(request))
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        job["transcripts"] = [h["id"] for h in state.transcripts.for_job(job["job_uid"])]
        return JSONResponse(job)

    def api_transcripts(request: Request) -> Response:
        return JSONResponse(state.transcripts.headers()[:1000])

    def api_transcript(request: Request) -> Response:
        t = state.transcripts.load(request.path_params["tid"])
        if t is None:
            return JSONResponse({"error": "no such association"}, status_code=404)
        return JSONResponse(t | {"findings": findings_json(t)})

    def api_job_transcripts(request: Request) -> Response:
        job = state.index.get(job_id(request))
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        out = [t | {"findings": findings_json(t)} for h in state.transcripts.for_job(job["job_uid"])
               if (t := state.transcripts.load(h["id"])) is not None]
        return JSONResponse(out)

    def printers_data() -> list[dict[str, Any]]:
        return printers.printer_views(state.config, state.health, state.index.counters(printers.today()))

    def api_printers(request: Request) -> Response:
        return JSONResponse(printers_data())

    def api_acceptance(request: Request) -> Response:
        ae = request.path_params["ae"]
        return JSONResponse(acceptance.report(ae, state.transcripts.for_calling_ae(ae)))

    def api_audit(request: Request) -> Response:
        return JSONResponse(audit.entries(state.spool_root))

    async def api_action(request: Request) -> Response:
        action, job = request.path_params["action"], job_id(request)
        if action not in ACTIONS:
            return JSONResponse({"error": f"unknown action {action}"}, status_code=404)
        if not request.state.viewer.admin:
            return JSONResponse({"error": f"{request.state.viewer.user} is a viewer: only an admin may retry, "
                                          "cancel or re-print"}, status_code=403)
        printer = ""
        if action == "reprint":  # body {"printer": AE} (optional: the job's own printer)
            try:
                body = await request.json() if await request.body() else {}
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("printer", ""), str):
                return JSONResponse({"error": 'send {"printer": "<AE title>"} or nothing'}, status_code=400)
            printer = body.get("printer", "")
        who = request.state.viewer.who
        ok, message = await run_in_threadpool(state.admin, action, job, printer, who)
        what = f"{action} on {printer}" if printer else action
        entry = audit.record(state.spool_root, who, what, job, ok, message)
        state.index.refresh(force=True)
        if ok and action == "reprint":
            entry["new_job"] = message.split(":", 1)[0]  # the admin's answer starts with the new job's ID
        return JSONResponse(entry, status_code=200 if ok else 409)

    routes = [
        Route("/", jobs_page), Route("/jobs/{job_id}", job_page),
        Route("/jobs/{job_id}/films/{n:int}.png", film_png), Route("/jobs/{job_id}/pdf/{n:int}", job_pdf),
        Route("/associations", transcripts_page), Route("/associations/{tid}", transcript_page),
        Route("/printers", printers_page), Route("/acceptance", acceptance_index),
        Route("/acceptance/{ae}/report.md", acceptance_page), Route("/acceptance/{ae}/report.pdf", acceptance_page),
        Route("/acceptance/{ae}", acceptance_page),
        Route("/audit", audit_page), Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/jobs", api_jobs), Route("/api/jobs/query", api_jobs_query, methods=["POST"]),
        Route("/api/jobs/{job_id}", api_job),
        Route("/api/jobs/{job_id}/transcripts", api_job_transcripts),
        Route("/api/jobs/{job_id}/{action}", api_action, methods=["POST"]),
        Route("/api/associations", api_transcripts), Route("/api/associations/{tid}", api_transcript),
        Route("/api/printers", api_printers), Route("/api/acceptance/{ae}", api_acceptance),
        Route("/api/audit", api_audit),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    return Starlette(routes=routes, middleware=[Middleware(Guard, auth=state.auth)],
                     exception_handlers={_NotFound: not_found})


class _NotFound(Exception):
    """A path parameter that cannot name anything here."""
