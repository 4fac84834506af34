"""`python -m botram_reporting [serve | asyncapi]`: serve the reporting over HTTP."""

from botram_reporting.main import create_app
from botram_reporting.settings import Settings
from botram_shared.serve import run_service


def main() -> None:
    run_service(Settings(), create_app)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
