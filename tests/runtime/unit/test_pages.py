"""The page kit: the shared shell, macros, static files and the sign-in configuration."""

import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI

from botram_runtime.access import public
from botram_runtime.pages import STATIC_CACHE_CONTROL, PageKit, PageKitDep
from botram_runtime.settings import ServiceSettings


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    """A service package with one page template and one script of its own."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "hello.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        '{{ ui.field("nik", "NIK", hint="16 angka", required=True) }}'
        '{{ ui.button("Simpan", type="submit") }}{{ ui.alert("Tersimpan", kind="success") }}'
        '{% endblock %}{% block scripts %}<script src="{{ static("hello.js") }}"></script>'
        "{% endblock %}"
    )
    (tmp_path / "static" / "hello.js").write_text("console.log('halo');\n")
    # A service file named like a kit file never replaces the kit's.
    (tmp_path / "static" / "botram.css").write_text("body { color: red; }\n")
    return tmp_path


def kit_of(service_dir: Path | None, **settings: object) -> PageKit:
    return PageKit(ServiceSettings(service_name="registry", **settings), service_dir)  # type: ignore[arg-type]


def test_a_signed_in_page_has_the_shell_the_prompt_and_hides_its_content(
    service_dir: Path,
) -> None:
    html = (
        kit_of(service_dir)
        .render("hello.html", title="Meja Depan", signin_roles=["front-desk"])
        .body.decode()
    )

    assert '<html lang="id">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main" tabindex="-1">' in html and "<h1>Meja Depan</h1>" in html
    assert "Pendaftaran dan Antrean" in html  # the service, in Bahasa Indonesia
    assert 'data-signin-roles="front-desk"' in html
    assert "Halaman ini untuk" in html and "petugas pendaftaran" in html
    assert re.search(r'<div id="page-content" data-signed-in hidden>', html)
    assert re.search(r'src="/static/signin\.js\?v=[0-9a-f]{12}"', html)
    assert re.search(r'src="/static/hello\.js\?v=[0-9a-f]{12}"', html)


def test_a_public_page_has_no_sign_in(service_dir: Path) -> None:
    html = kit_of(service_dir).render("hello.html", title="Layar Antrean").body.decode()

    assert "signin.js" not in html and "botram-signin-config" not in html
    assert "data-signin-prompt" not in html
    assert '<div id="page-content">' in html


def test_fields_tie_their_label_hint_and_error_to_the_input(service_dir: Path) -> None:
    html = kit_of(service_dir).render("hello.html", title="x").body.decode()

    assert '<label for="field-nik">NIK</label>' in html
    assert '<p class="hint" id="field-nik-hint">16 angka</p>' in html
    assert 'aria-describedby="field-nik-hint field-nik-error"' in html
    assert re.search(r'<input id="field-nik" name="nik" type="text" value=""[^>]* required', html)
    assert '<button type="submit" class="button button-primary">Simpan</button>' in html
    assert '<div class="alert alert-success" role="status">Tersimpan</div>' in html


def test_context_is_escaped(service_dir: Path) -> None:
    html = kit_of(service_dir).render("hello.html", title="<script>x</script>").body.decode()

    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_pages_allow_scripts_and_styles_from_the_service_only(service_dir: Path) -> None:
    headers = kit_of(service_dir).render("hello.html", title="x").headers

    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy
    assert headers["referrer-policy"] == "no-referrer"


def signin_config(kit: PageKit) -> dict[str, object]:
    html = kit.render("hello.html", title="x", signin_roles=["desk"]).body.decode()
    found = re.search(
        r'<script type="application/json" id="botram-signin-config">(.*?)</script>', html
    )
    assert found is not None
    return json.loads(found[1])  # type: ignore[no-any-return]


def test_the_embedded_default_signs_in_with_a_link(service_dir: Path) -> None:
    assert signin_config(kit_of(service_dir)) == {"service": "registry", "mode": "embedded"}


def test_an_identity_provider_signs_in_with_its_public_client(service_dir: Path) -> None:
    issuer = "https://sso.bekasikab.go.id/realms/botram"
    kit = kit_of(service_dir, auth_issuer=issuer, auth_web_client_id="botram-pages")

    config = signin_config(kit)

    assert config["mode"] == "oidc" and config["issuer"] == issuer
    assert config["client_id"] == "botram-pages" and config["scope"] == "openid"
    assert str(config["library"]).startswith("/static/vendor/oidc-client-ts.min.js?v=")
    policy = kit.render("hello.html", title="x").headers["content-security-policy"]
    assert "connect-src 'self' https://sso.bekasikab.go.id" in policy


def test_a_missing_static_file_is_a_template_error(service_dir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        kit_of(service_dir).static_url("nope.js")


async def test_static_files_are_served_with_long_cache_headers(service_dir: Path) -> None:
    kit = kit_of(service_dir)
    app = FastAPI()
    app.state.pages = kit
    app.mount("/static", kit.static_files())

    @app.get("/hello", dependencies=[Depends(public())])
    async def hello(page: PageKitDep) -> object:
        return page.render("hello.html", title="x")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pages") as client:
        css = await client.get("/static/botram.css")
        own = await client.get("/static/hello.js")
        htmx = await client.get("/static/vendor/htmx.min.js")
        outside = await client.get("/static/../pages/__init__.py")
        page = await client.get("/hello")

    assert css.status_code == 200 and "color: red" not in css.text
    assert css.headers["cache-control"] == STATIC_CACHE_CONTROL
    assert own.status_code == 200 and "halo" in own.text
    assert htmx.status_code == 200 and "htmx" in htmx.text
    assert outside.status_code == 404
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
