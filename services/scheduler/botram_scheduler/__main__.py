"""`python -m botram_scheduler [serve | asyncapi]`: serve the scheduler over HTTP."""

from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from botram_shared.serve import run_service


def main() -> None:
    run_service(Settings(), create_app)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
