"""The registry's settings: production never runs with the development pseudonym key."""

import pytest
from pydantic import ValidationError

from botram_registry.settings import DEV_PSEUDONYM_KEY, Settings


def test_production_refuses_the_default_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTRAM_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production", pseudonym_key="")
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production", pseudonym_key=DEV_PSEUDONYM_KEY)

    real = Settings(env="production", pseudonym_key="a-real-secret-from-the-vault")
    assert real.pseudonym_key.get_secret_value() == "a-real-secret-from-the-vault"
