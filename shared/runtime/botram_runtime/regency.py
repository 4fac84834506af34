"""The regency Botram runs in: how its name is shortened, signed and turned into a domain.

Every regency-specific word a citizen, a desk or a calendar app sees comes from the settings
(`BOTRAM_REGENCY_NAME`, `BOTRAM_REGENCY_CODE`, `BOTRAM_SMS_SIGNATURE`,
`BOTRAM_CALENDAR_DOMAIN`); the defaults below are derived from the regency's name, so a
deployment usually sets only the name and the code (docs/operations.md, "Another regency").
"""

import re

from botram_contracts.slugs import slugify

# Kemendagri/BPS regency codes: "32.16" as printed, "3216" as the first four NIK digits.
_CODE = re.compile(r"^(\d{2})\.?(\d{2})$")
_KABUPATEN = "Kabupaten "
_KOTA = "Kota "


def regency_code(code: str) -> str:
    """`32.16` or `3216` -> `3216` (the province and regency digits a NIK starts with)."""
    match = _CODE.fullmatch(code.strip())
    if match is None:
        raise ValueError(
            f"regency code {code!r} must be the province and regency digits, e.g. 32.16 or 3216"
        )
    return match.group(1) + match.group(2)


def short_name(regency: str) -> str:
    """`Kabupaten Karawang` -> `Kab. Karawang` (SMS, page headers); a city keeps `Kota`."""
    if regency.startswith(_KABUPATEN):
        return "Kab. " + regency.removeprefix(_KABUPATEN)
    return regency


def sms_signature(regency: str) -> str:
    """The signature each citizen message starts with: `Botram Kab. Karawang`."""
    return f"Botram {short_name(regency)}"


def calendar_domain(regency: str) -> str:
    """The domain of calendar UIDs, after the regency's own (`karawangkab.go.id`,
    `bekasikota.go.id`): `botram.karawangkab.go.id`."""
    if regency.startswith(_KABUPATEN):
        base, suffix = regency.removeprefix(_KABUPATEN), "kab"
    elif regency.startswith(_KOTA):
        base, suffix = regency.removeprefix(_KOTA), "kota"
    else:
        base, suffix = regency, ""
    return f"botram.{slugify(base).replace('-', '')}{suffix}.go.id"
