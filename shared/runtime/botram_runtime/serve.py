"""A service process's entry point: serve over HTTP, or print its AsyncAPI document."""

import json
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from botram_runtime.asyncapi import exact_document
from botram_runtime.gc_tuning import tune_garbage_collector
from botram_runtime.settings import ServiceSettings

USAGE = "usage: python -m botram_<service> [serve | asyncapi]"
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def run_service(settings: SettingsT, create_app: Callable[[SettingsT], FastAPI]) -> None:
    """`serve` (default) runs uvicorn until SIGINT/SIGTERM; `asyncapi` prints the document."""
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    app = create_app(settings)
    if command == "asyncapi":
        document = exact_document(app.state.runtime.asyncapi().to_specification().to_jsonable())
        print(json.dumps(document, indent=2, sort_keys=True))
    elif command == "serve":
        tune_garbage_collector()
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    else:
        sys.exit(USAGE)
