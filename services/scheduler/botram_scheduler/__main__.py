"""`python -m botram_scheduler [serve | asyncapi]`: serve the scheduler over HTTP."""

from botram_runtime.serve import run_service
from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings


def main() -> None:
    settings = Settings()
    run_service(settings, create_app)


if __name__ == "__main__":
    main()
