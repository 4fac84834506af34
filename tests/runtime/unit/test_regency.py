"""The regency from the settings: its code, SMS signature and calendar domain."""

import pytest
from pydantic import ValidationError

from botram_runtime.regency import calendar_domain, regency_code, short_name, sms_signature
from botram_runtime.settings import ServiceSettings


def test_the_code_is_the_four_digits_a_nik_starts_with() -> None:
    assert regency_code("32.15") == regency_code("3215") == "3215"
    with pytest.raises(ValueError, match=r"e\.g\. 32\.16 or 3216"):
        regency_code("32.15.01")


def test_names_signature_and_domain_follow_the_regency() -> None:
    assert short_name("Kabupaten Karawang") == "Kab. Karawang"
    assert short_name("Kota Bekasi") == "Kota Bekasi"
    assert sms_signature("Kabupaten Karawang") == "Botram Kab. Karawang"
    assert calendar_domain("Kabupaten Karawang") == "botram.karawangkab.go.id"
    assert calendar_domain("Kabupaten Bandung Barat") == "botram.bandungbaratkab.go.id"
    assert calendar_domain("Kota Bekasi") == "botram.bekasikota.go.id"


def test_the_defaults_keep_bekasi(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOTRAM_REGENCY", "BOTRAM_REGENCY_NAME", "BOTRAM_REGENCY_CODE"):
        monkeypatch.delenv(name, raising=False)

    settings = ServiceSettings()

    assert (settings.regency, settings.regency_code) == ("Kabupaten Bekasi", "3216")
    assert settings.sms_signature == "Botram Kab. Bekasi"
    assert settings.calendar_domain == "botram.bekasikab.go.id"


def test_another_regency_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTRAM_REGENCY_NAME", "Kabupaten Karawang")
    monkeypatch.setenv("BOTRAM_REGENCY_CODE", "32.15")

    settings = ServiceSettings()

    assert (settings.regency, settings.regency_code) == ("Kabupaten Karawang", "3215")
    assert settings.sms_signature == "Botram Kab. Karawang"
    assert settings.calendar_domain == "botram.karawangkab.go.id"
    assert settings.regency_short_name == "Kab. Karawang"


def test_the_older_variable_and_explicit_signature_and_domain_still_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOTRAM_REGENCY_NAME", raising=False)
    monkeypatch.setenv("BOTRAM_REGENCY", "Kabupaten Karawang")
    monkeypatch.setenv("BOTRAM_SMS_SIGNATURE", "Pemkab Karawang")
    monkeypatch.setenv("BOTRAM_CALENDAR_DOMAIN", "jadwal.karawangkab.go.id")

    settings = ServiceSettings()

    assert settings.regency == "Kabupaten Karawang"
    assert settings.sms_signature == "Pemkab Karawang"
    assert settings.calendar_domain == "jadwal.karawangkab.go.id"
    with pytest.raises(ValidationError):
        ServiceSettings(calendar_domain="not a domain")
    with pytest.raises(ValidationError):
        ServiceSettings(regency_code="Karawang")
