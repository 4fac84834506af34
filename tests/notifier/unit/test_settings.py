"""Notifier settings: the SSRF guard by environment, the retry schedule, the opt-out key."""

import pytest
from pydantic import ValidationError

from botram_notifier.settings import DEV_OPT_OUT_KEY, Settings

# `openssl rand -hex 32`: 32 bytes of key material.
KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_production_turns_the_ssrf_guard_on_by_default() -> None:
    assert Settings(env="production", opt_out_key=KEY).ssrf_guard
    assert not Settings().ssrf_guard
    with pytest.raises(ValueError, match="retry schedule"):
        Settings(notifier_retry_schedule="5,soon")


@pytest.mark.parametrize("key", [None, "", DEV_OPT_OUT_KEY, "x", "short-but-not-dev"])
def test_production_refuses_an_opt_out_key_that_is_missing_default_or_short(
    key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTRAM_OPT_OUT_KEY", raising=False)
    values = {} if key is None else {"opt_out_key": key}

    with pytest.raises(ValidationError, match="BOTRAM_OPT_OUT_KEY"):
        Settings(env="production", **values)


def test_retention_defaults_are_those_documented() -> None:
    settings = Settings()

    assert (settings.contact_retention_hours, settings.delivery_retention_days) == (48, 30)
