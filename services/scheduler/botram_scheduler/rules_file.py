"""The rotation rules file (TOML): read, validate against the regency, and resolve.

The shipped rules live beside this module: `rules/default.toml` (Kabupaten Bekasi) and one
file per other regency that ships an example (`rules/karawang.toml`: Kabupaten Karawang),
picked by the configured regency's name; a deployment points `BOTRAM_SCHEDULER_RULES_PATH`
at its own. Every name is resolved at load time, so a typo in
the file is refused with suggestions instead of producing a wrong calendar.
"""

import tomllib
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from botram_contracts.reference import Catalogue, Regency, UnknownRegionError
from botram_contracts.reference.regions import DEFAULT_REGENCY
from botram_contracts.slugs import slugify
from botram_contracts.vocabulary import Level
from botram_scheduler.domain.places import find_desa, find_kecamatan
from botram_scheduler.domain.rotation import Policy, Rotation, Rules, RulesError, Stop
from botram_scheduler.domain.sessions import DEFAULT_END, DEFAULT_QUOTA, DEFAULT_START, Quotas

RULES_DIR = Path(__file__).parent / "rules"
DEFAULT_RULES_PATH = RULES_DIR / "default.toml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Blackout(_Strict):
    date: date
    reason: str = Field(min_length=1)


class _HolidaysFile(_Strict):
    country: str = "ID"
    categories: list[str] = ["public"]
    language: str = "id"
    policy: Policy = Policy.MOVE
    cuti_bersama: list[date] = []
    blackout: list[_Blackout] = []


class _LevelFile(_Strict):
    weekdays: list[Weekday] = Field(min_length=1)
    first_date: date
    start: time = DEFAULT_START
    end: time = DEFAULT_END
    venue: str | None = None
    # Tickets per service: `quota` for each, but the services in `quotas` (code = n).
    quota: int = Field(default=DEFAULT_QUOTA, gt=0)
    quotas: dict[str, Annotated[int, Field(gt=0)]] = {}


class _KecamatanFile(_LevelFile):
    order: list[str] = Field(min_length=1)
    overrides: dict[date, str] = {}


class _DesaStart(_Strict):
    kecamatan: str
    desa: str


class _DesaFile(_LevelFile):
    order: Literal["bottom-up", "top-down"] = "bottom-up"
    first: _DesaStart | None = None
    top_services: int = Field(default=15, gt=0)
    ranking_level: Level = Level.KECAMATAN
    default_services: list[str] = Field(min_length=1)


class _RulesFile(_Strict):
    holidays: _HolidaysFile = _HolidaysFile()
    kecamatan: _KecamatanFile
    desa: _DesaFile


@dataclass(frozen=True)
class PublicHolidays:
    """A country's public holidays from the `holidays` package, named in `language`."""

    country: str
    categories: tuple[str, ...]
    language: str

    def __call__(self, years: range) -> dict[date, str]:
        public = holidays.country_holidays(
            self.country, years=years, categories=self.categories, language=self.language
        )
        return {day: str(name) for day, name in public.items()}


def _weekdays(names: list[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(name) for name in names)


def _kecamatan_stop(regions: Regency, name: str, where: str) -> Stop:
    try:
        kec = find_kecamatan(regions, name)
    except UnknownRegionError as error:
        raise RulesError(f"{where}: {error}") from error
    return Stop(kecamatan=kec.slug, kecamatan_name=kec.name)


def _kecamatan_rotation(raw: _KecamatanFile, regions: Regency) -> Rotation:
    stops = [_kecamatan_stop(regions, name, "kecamatan.order") for name in raw.order]
    slugs = [stop.kecamatan for stop in stops]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    missing = [kec.name for kec in regions.kecamatans if kec.slug not in slugs]
    if repeated or missing:
        raise RulesError(
            "kecamatan.order must name every kecamatan exactly once"
            + (f"; repeated: {', '.join(repeated)}" if repeated else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    overrides = {
        day: _kecamatan_stop(regions, name, f"kecamatan.overrides {day}")
        for day, name in raw.overrides.items()
    }
    return _rotation(Level.KECAMATAN, raw, tuple(stops), overrides)


def _desa_rotation(raw: _DesaFile, regions: Regency) -> Rotation:
    listed = regions.all_desas()
    if raw.order == "bottom-up":  # "dari bawah ke atas": the list read from its last entry up
        listed.reverse()
    names = {kec.slug: kec.name for kec in regions.kecamatans}
    stops = [Stop(d.kecamatan_slug, d.slug, names[d.kecamatan_slug], d.name) for d in listed]
    if raw.first is not None:
        try:
            kec, desa = find_desa(regions, raw.first.kecamatan, raw.first.desa)
        except UnknownRegionError as error:
            raise RulesError(f"desa.first: {error}") from error
        at = next(i for i, s in enumerate(stops) if (s.kecamatan, s.desa) == (kec.slug, desa.slug))
        stops = stops[at:] + stops[:at]  # the rotation enters the circular list there
    return _rotation(Level.DESA, raw, tuple(stops), {})


def _rotation(
    level: Level, raw: _LevelFile, stops: tuple[Stop, ...], overrides: dict[date, Stop]
) -> Rotation:
    if raw.end <= raw.start:
        raise RulesError(f"{level}: end {raw.end} must be after start {raw.start}")
    if raw.first_date.weekday() not in _weekdays(list(raw.weekdays)):
        raise RulesError(f"{level}.first_date {raw.first_date} is not one of its weekdays")
    return Rotation(
        level=level,
        weekdays=_weekdays(list(raw.weekdays)),
        first_date=raw.first_date,
        stops=stops,
        start=raw.start,
        end=raw.end,
        venue=raw.venue,
        quota=Quotas(raw.quota, dict(raw.quotas)),
        overrides=overrides,
    )


def parse_rules(text: str, regions: Regency, catalogue: Catalogue, source: str = "rules") -> Rules:
    """Validate a rules document and resolve its names; RulesError says what is wrong."""
    try:
        raw = _RulesFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{source}: not valid TOML: {error}") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise RulesError(f"{source}: {problems}") from error
    if raw.holidays.country not in holidays.list_supported_countries():
        raise RulesError(f"{source}: holidays.country {raw.holidays.country!r} is not supported")
    unknown = [c for c in raw.desa.default_services if c not in catalogue]
    not_eligible = [
        c
        for c in raw.desa.default_services
        if c in catalogue and not catalogue.get(c).desa_eligible
    ]
    if unknown or not_eligible:
        raise RulesError(
            f"{source}: desa.default_services: "
            + "; ".join(
                part
                for part in (
                    unknown and f"unknown service(s) {', '.join(unknown)}",
                    not_eligible and f"not desa-eligible: {', '.join(not_eligible)}",
                )
                if part
            )
        )
    for level, section in (("kecamatan", raw.kecamatan), ("desa", raw.desa)):
        if unknown := [code for code in section.quotas if code not in catalogue]:
            raise RulesError(f"{source}: {level}.quotas: unknown service(s) {', '.join(unknown)}")
    extra = {day: "Cuti bersama" for day in raw.holidays.cuti_bersama}
    for blackout in raw.holidays.blackout:
        extra[blackout.date] = blackout.reason
    try:
        kecamatan = _kecamatan_rotation(raw.kecamatan, regions)
        desa = _desa_rotation(raw.desa, regions)
    except RulesError as error:
        raise RulesError(f"{source}: {error}") from error
    return Rules(
        kecamatan=kecamatan,
        desa=desa,
        policy=raw.holidays.policy,
        public_holidays=PublicHolidays(
            raw.holidays.country, tuple(raw.holidays.categories), raw.holidays.language
        ),
        extra_blocked=extra,
        top_services=raw.desa.top_services,
        ranking_level=raw.desa.ranking_level,
        default_services=tuple(raw.desa.default_services),
    )


def shipped_rules(regency: str) -> Path:
    """The rules file shipped for a regency: `default.toml` for Kabupaten Bekasi,
    `rules/<name>.toml` for another (`Kabupaten Karawang` -> `karawang.toml`)."""
    if regency == DEFAULT_REGENCY:
        return DEFAULT_RULES_PATH
    path = RULES_DIR / f"{slugify(regency.removeprefix('Kabupaten '))}.toml"
    if not path.is_file():
        raise RulesError(
            f"no rules file ships for {regency}: set BOTRAM_SCHEDULER_RULES_PATH to your own "
            f"(start from {RULES_DIR / 'karawang.toml'})"
        )
    return path


def load_rules(path: Path | None, regions: Regency, catalogue: Catalogue) -> Rules:
    """Read and resolve a rules file (when `path` is None, the one shipped for the regency)."""
    path = path or shipped_rules(regions.name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"cannot read the rules file {path}: {error.strerror}") from error
    return parse_rules(text, regions, catalogue, source=str(path))
