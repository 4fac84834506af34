"""The API documentation pages (`/docs`: Swagger UI; `/asyncapi`: the AsyncAPI viewer), served
with local, pinned assets (pages/static/vendor/, README.md there): they work on an intranet
without internet. Nothing on them is loaded from another host."""

import json
from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

# No favicon request (it would go to the framework's site otherwise).
NO_FAVICON = "data:,"
SWAGGER_JS = "vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui/swagger-ui.css"
ASYNCAPI_JS = "vendor/asyncapi/asyncapi-react.standalone.js"
ASYNCAPI_CSS = "vendor/asyncapi/asyncapi-react.min.css"


def add_swagger_ui(app: FastAPI) -> None:
    """`/docs`, as FastAPI's own (a plain route, outside the OpenAPI document), but local."""

    async def swagger_ui(request: Request) -> HTMLResponse:
        pages = request.app.state.pages
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=pages.static_url(SWAGGER_JS),
            swagger_css_url=pages.static_url(SWAGGER_CSS),
            swagger_favicon_url=NO_FAVICON,
            # No badge from validator.swagger.io: the document is checked in CI instead.
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)


def asyncapi_page(request: Request, title: str, document: dict[str, Any]) -> HTMLResponse:
    """The AsyncAPI document rendered by the AsyncAPI React component (standalone bundle)."""
    pages = request.app.state.pages
    config = {"schema": document, "config": {"show": {"sidebar": True}}}
    # `</` never closes the script element early: the JSON is embedded with it escaped.
    embedded = json.dumps(config).replace("</", "<\\/")
    return HTMLResponse(f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(title)} AsyncAPI</title>
  <link rel="icon" href="{NO_FAVICON}">
  <link rel="stylesheet" href="{pages.static_url(ASYNCAPI_CSS)}">
</head>
<body>
  <div id="asyncapi"></div>
  <script src="{pages.static_url(ASYNCAPI_JS)}"></script>
  <script>
    window.AsyncApiStandalone.render({embedded}, document.getElementById("asyncapi"));
  </script>
</body>
</html>""")
