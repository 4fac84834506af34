"""Notifier settings: the SSRF guard by environment, the retry schedule."""

import pytest

from botram_notifier.settings import Settings


def test_production_turns_the_ssrf_guard_on_by_default() -> None:
    assert Settings(env="production").ssrf_guard
    assert not Settings().ssrf_guard
    with pytest.raises(ValueError, match="retry schedule"):
        Settings(notifier_retry_schedule="5,soon")
