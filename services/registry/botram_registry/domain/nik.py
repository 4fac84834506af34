"""The NIK (Nomor Induk Kependudukan): validation and what may be derived from it. Pure.

Layout: PP RR KK DDMMYY SSSS - province, regency, kecamatan, birth date (day + 40 for
women), serial. A NIK is personal data: it never leaves this service, never reaches a log.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from botram_contracts.events.models import AgeBand, Sex
from botram_runtime.errors import Invalid

# BPS province codes, including the Papua provinces created in 2022.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96", "97",
    }
)  # fmt: skip


# Each rule in words for the front desk (Bahasa Indonesia), by `InvalidNik.rule`.
RULES_IN_WORDS = {
    "length": "NIK harus terdiri dari tepat 16 angka.",
    "province": "Dua angka pertama NIK bukan kode provinsi yang dikenal.",
    "regency": "Angka ke-3 dan ke-4 NIK (kode kabupaten/kota) tidak boleh 00.",
    "kecamatan": "Angka ke-5 dan ke-6 NIK (kode kecamatan) tidak boleh 00.",
    "birth-date": "Angka ke-7 sampai ke-12 NIK bukan tanggal lahir yang benar.",
    "serial": "Empat angka terakhir NIK tidak boleh 0000.",
}


class InvalidNik(Invalid):
    """A NIK that breaks a rule; `rule` names which one (safe to show: no digits echoed).

    Answered as 422 `invalid-nik-<rule>`.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message, code=f"invalid-nik-{rule}")
        self.rule = rule


@dataclass(frozen=True, slots=True)
class NikFacts:
    """What a valid NIK says about its holder."""

    regency_code: str
    sex: Sex
    birth_date: date


def parse_nik(nik: str, *, today: date) -> NikFacts:
    """Validate a NIK rule by rule and derive sex, birth date and regency."""
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        raise InvalidNik("length", "NIK must be exactly 16 digits")
    if nik[:2] not in PROVINCE_CODES:
        raise InvalidNik("province", "NIK digits 1-2 are not a known province code")
    if nik[2:4] == "00":
        raise InvalidNik("regency", "NIK digits 3-4 (regency code) cannot be 00")
    if nik[4:6] == "00":
        raise InvalidNik("kecamatan", "NIK digits 5-6 (kecamatan code) cannot be 00")
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex: Sex = "M"
    if day > 40:
        sex, day = "F", day - 40
    year = 2000 + year2 if 2000 + year2 <= today.year else 1900 + year2
    try:
        birth = date(year, month, day)
    except ValueError:
        raise InvalidNik(
            "birth-date", "NIK digits 7-12 are not a real birth date (day + 40 for women)"
        ) from None
    if birth > today:
        raise InvalidNik("birth-date", "NIK birth date is in the future")
    if nik[12:] == "0000":
        raise InvalidNik("serial", "NIK digits 13-16 (serial) cannot be 0000")
    return NikFacts(regency_code=nik[:4], sex=sex, birth_date=birth)


def age_on(birth: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int) -> AgeBand:
    """The coarse band that events carry instead of a birth date."""
    if age < 18:
        return "0-17"
    if age < 30:
        return "18-29"
    if age < 45:
        return "30-44"
    if age < 60:
        return "45-59"
    return "60+"


def pseudonym(nik: str, key: bytes) -> str:
    """Keyed pseudonym (HMAC-SHA256): stable per citizen, useless without the key."""
    return hmac.new(key, nik.encode(), hashlib.sha256).hexdigest()


def mask_nik(nik: str) -> str:
    """`3216********0001`: enough for a desk officer to recognise, not enough to misuse."""
    return nik[:4] + "*" * 8 + nik[12:]
