"""`python -m botram_registry [serve | asyncapi]`: serve the registry over HTTP."""

from botram_registry.main import create_app
from botram_registry.settings import Settings
from botram_runtime.serve import run_service


def main() -> None:
    run_service(Settings(), create_app)


if __name__ == "__main__":
    main()
