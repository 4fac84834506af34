"""`python -m botram_notifier [serve | asyncapi]`: serve the notifier over HTTP."""

from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_shared.serve import run_service


def main() -> None:
    run_service(Settings(), create_app)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
