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

    real = Settings(env="production", pseudonym_key=REAL_KEY)
    assert real.pseudonym_key.get_secret_value() == REAL_KEY


# `openssl rand -hex 32`: 32 bytes of key material.
REAL_KEY = "5d1b0f0c6e0e4a7f9b8c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6"


@pytest.mark.parametrize(
    "key",
    [
        "x",
        "a-real-secret-from-the-vault",  # 28 characters
        "5d1b0f0c6e0e4a7f9b8c2d3e4f5a6b7c",  # hex of 16 bytes
        "XJ1b4WbOShYeF5y2ehq0qQ==",  # base64 of 16 bytes
    ],
)
def test_production_refuses_a_pseudonym_key_under_32_bytes_of_key_material(key: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 random bytes"):
        Settings(env="production", pseudonym_key=key)


@pytest.mark.parametrize(
    "key",
    [
        REAL_KEY,
        "nKq3mQ2tXv8yZ1aB4cD6eF7gH9iJ0kL2mN3oP5qR7sU=",  # openssl rand -base64 32
        "a passphrase of more than thirty-two characters, typed",
    ],
)
def test_production_accepts_a_key_of_32_bytes_or_more(key: str) -> None:
    assert Settings(env="production", pseudonym_key=key).is_production


def test_development_keeps_its_short_default_key() -> None:
    assert Settings(pseudonym_key="x").pseudonym_key.get_secret_value() == "x"
