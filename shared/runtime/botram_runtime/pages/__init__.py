"""The page kit: what every service's screens share (docs/architecture.md, "Pages").

Pages are server-rendered Jinja2 templates on one `base.html` (lang="id", skip link, header
with the service and the signed-in actor, a `<main>`), with macros for forms, buttons and
alerts, one stylesheet, htmx for partial updates and `signin.js` for signing in. Every service
serves the kit's static files (and its own `static/`) at `/static/`.

Pages are public routes: the HTML carries no personal data. What a signed-in person may see
or do comes from the JSON API, called by the page's script with the bearer token it keeps in
`sessionStorage` (never a cookie, so another site cannot act for a signed-in officer).
"""

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from botram_runtime.settings import ServiceSettings

KIT_DIR = Path(__file__).parent
STATIC_PREFIX = "/static"
# Static URLs carry a content hash (`?v=`), so browsers may keep them for a year.
STATIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
# A page is the same for everyone (no personal data) but must follow a new release at once.
PAGE_CACHE_CONTROL = "no-cache"
SERVICE_LABELS = {
    "scheduler": "Penjadwalan",
    "registry": "Pendaftaran dan Antrean",
    "notifier": "Notifikasi",
    "reporting": "Laporan",
}
ROLE_LABELS = {
    "planner": "perencana",
    "operator": "operator",
    "front-desk": "petugas pendaftaran",
    "desk": "petugas loket",
    "agency": "instansi",
    "viewer": "pemantau",
}


class CachedStaticFiles(StaticFiles):
    """Static files with long cache headers and `nosniff`."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = STATIC_CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class PageKit:
    """One service's templates and static files, on top of the kit's."""

    def __init__(self, settings: ServiceSettings, package_dir: Path | None = None) -> None:
        self.settings = settings
        self.service = settings.service_name
        own = [package_dir] if package_dir is not None else []
        self.static_dirs = [KIT_DIR / "static"] + [
            d / "static" for d in own if (d / "static").is_dir()
        ]
        template_dirs = [d / "templates" for d in own if (d / "templates").is_dir()]
        self.env = Environment(
            loader=ChoiceLoader(
                [FileSystemLoader(template_dirs), FileSystemLoader(KIT_DIR / "templates")]
            ),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            static=self.static_url,
            service=self.service,
            service_label=SERVICE_LABELS.get(self.service, self.service),
            # The configured regency (`Kab. Karawang`): every page's title and header say it.
            regency_label=settings.regency_short_name,
            role_labels=ROLE_LABELS,
            signin_config=self.signin_config,
        )

    def static_url(self, path: str) -> str:
        """`/static/<path>?v=<content hash>`; a file that does not exist is a template bug."""
        return f"{STATIC_PREFIX}/{path}?v={_content_hash(self._static_file(path))}"

    def _static_file(self, path: str) -> Path:
        for directory in self.static_dirs:
            candidate = (directory / path).resolve()
            if candidate.is_file() and candidate.is_relative_to(directory.resolve()):
                return candidate
        raise FileNotFoundError(f"no static file {path!r} in {self.static_dirs}")

    def static_files(self) -> CachedStaticFiles:
        """The ASGI app serving every static directory (the kit's first: it cannot be shadowed)."""
        app = CachedStaticFiles(directory=self.static_dirs[0])
        app.all_directories = list(self.static_dirs)
        return app

    def signin_config(self) -> str:
        """How pages sign in, as the JSON `signin.js` reads from the page.

        Embedded default: a sign-in link (`botram token --link`) carries the token in the URL
        fragment. With an identity provider: the OIDC authorization-code flow with PKCE against
        its public client (`BOTRAM_AUTH_WEB_CLIENT_ID`).
        """
        settings = self.settings
        config: dict[str, Any] = {"service": self.service, "mode": "embedded"}
        if settings.auth_issuer:
            config |= {
                "mode": "oidc",
                "issuer": settings.auth_issuer,
                "client_id": settings.auth_web_client_id,
                "scope": settings.auth_web_scope,
                "library": self.static_url("vendor/oidc-client-ts.min.js"),
            }
        # `</` cannot close the <script> element the JSON sits in.
        return json.dumps(config).replace("</", "<\\/")

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        style_hashes: Sequence[str] = (),
        **context: Any,
    ) -> HTMLResponse:
        """A page from `template` with the kit's globals and `context`. `style_hashes`
        (`sha256-…`) allow exactly those inline stylesheets besides the service's own, e.g. of
        a document the page fetches and opens (a blob URL keeps the page's policy)."""
        context.setdefault("signin_roles", [])
        html = self.env.get_template(template).render(**context)
        headers = self.page_headers(style_hashes)
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def page_headers(self, style_hashes: Sequence[str] = ()) -> dict[str, str]:
        """Security headers of every page: scripts and styles only from this service."""
        style = " ".join(["'self'", *(f"'{digest}'" for digest in style_hashes)])
        connect = "'self'"
        if self.settings.auth_issuer:
            connect += " " + _origin(self.settings.auth_issuer)
        policy = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                f"style-src {style}",
                "img-src 'self' data:",
                f"connect-src {connect}",
                "media-src 'self' data:",
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "object-src 'none'",
            ]
        )
        return {
            "Content-Security-Policy": policy,
            "Cache-Control": PAGE_CACHE_CONTROL,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }


def page_kit(request: Request) -> PageKit:
    """The page kit of the app serving this request (`ServiceRuntime.create_app`)."""
    kit: PageKit = request.app.state.pages
    return kit


PageKitDep = Annotated[PageKit, Depends(page_kit)]


@cache
def _content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
