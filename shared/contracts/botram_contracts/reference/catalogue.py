"""The service catalogue: every desk a Botram session can host, loaded from `services.toml`."""

import functools
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from botram_contracts.reference.regions import DEFAULT_REGENCY
from botram_contracts.slugs import slugify

DEFAULT_CATALOGUE_PATH = Path(__file__).parent / "data" / "services.toml"
# The seed promises "40+ kinds of service"; a shorter file is a truncated or wrong file.
MIN_SERVICES = 40
_TICKET_PREFIX = re.compile(r"^[A-Z]{2,4}$")
# An agency name may name the regency it serves in ("Samsat {regency}"): filled at load time
# from the settings (`BOTRAM_REGENCY_NAME`), so the catalogue ships for any regency.
REGENCY_PLACEHOLDER = "{regency}"


class CatalogueError(ValueError):
    """A catalogue data file is unreadable or inconsistent."""


def _check_slug(value: str, what: str) -> str:
    """Return `value` if it is already a canonical slug, else raise ValueError."""
    if not value or slugify(value) != value:
        raise ValueError(f"{what} {value!r} is not a lowercase hyphen slug")
    return value


class Agency(BaseModel):
    """An agency that staffs desks at Botram sessions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str
    name: str = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def _slug_is_canonical(cls, value: str) -> str:
        return _check_slug(value, "agency slug")


class Service(BaseModel):
    """One kind of service offered at a desk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    agency: str
    name: str = Field(min_length=1)
    ticket_prefix: str
    desa_eligible: bool
    demand_weight: float = Field(gt=0)
    mean_service_minutes: float = Field(gt=0)

    @field_validator("code")
    @classmethod
    def _code_is_slug(cls, value: str) -> str:
        return _check_slug(value, "service code")

    @field_validator("agency")
    @classmethod
    def _agency_is_slug(cls, value: str) -> str:
        return _check_slug(value, "agency")

    @field_validator("ticket_prefix")
    @classmethod
    def _prefix_is_short_caps(cls, value: str) -> str:
        if not _TICKET_PREFIX.fullmatch(value):
            raise ValueError(f"ticket prefix {value!r} must be 2-4 uppercase letters A-Z")
        return value

    @model_validator(mode="after")
    def _code_names_its_agency(self) -> "Service":
        # Codes double as subject tokens; the agency prefix keeps them unambiguous per desk.
        if not self.code.startswith(f"{self.agency}-"):
            raise ValueError(
                f"service code {self.code!r} must start with its agency slug {self.agency!r}-"
            )
        return self


def _duplicates(values: list[str]) -> list[str]:
    """Return the values that occur more than once, in first-seen order."""
    return [value for value, count in Counter(values).items() if count > 1]


def _catalogue_problems(services: tuple[Service, ...], agencies: dict[str, Agency]) -> list[str]:
    """List every cross-entry inconsistency, so one run reports them all."""
    problems = [
        f"duplicate service code {code!r}" for code in _duplicates([s.code for s in services])
    ]
    for prefix in _duplicates([s.ticket_prefix for s in services]):
        owners = ", ".join(s.code for s in services if s.ticket_prefix == prefix)
        problems.append(f"duplicate ticket prefix {prefix!r} used by {owners}")
    problems += [
        f"agency key {key!r} does not match its slug {agency.slug!r}"
        for key, agency in agencies.items()
        if key != agency.slug
    ]
    problems += [
        f"service {s.code!r} names unknown agency {s.agency!r}"
        for s in services
        if s.agency not in agencies
    ]
    if len(services) < MIN_SERVICES:
        problems.append(
            f"only {len(services)} services; the catalogue needs at least {MIN_SERVICES}"
        )
    return problems


class Catalogue(BaseModel):
    """The validated set of services and the agencies that provide them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    services: tuple[Service, ...]
    agencies: dict[str, Agency]
    _by_code: dict[str, Service] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _entries_are_consistent(self) -> "Catalogue":
        problems = _catalogue_problems(self.services, self.agencies)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        """Index services by code for O(1) lookups."""
        self._by_code = {service.code: service for service in self.services}

    def get(self, code: str) -> Service:
        """Return the service with this code, or raise KeyError."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown service code {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Service]:  # type: ignore[override]
        # Iterating a catalogue means iterating its services, not pydantic's field pairs.
        return iter(self.services)

    def __len__(self) -> int:
        return len(self.services)

    def desa_eligible(self) -> list[Service]:
        """Return the services that may also go to Botram Masuk Desa sessions."""
        return [service for service in self.services if service.desa_eligible]

    def for_agency(self, slug: str) -> list[Service]:
        """Return the services of one agency (an empty list for an unknown slug)."""
        return [service for service in self.services if service.agency == slug]

    def codes(self) -> list[str]:
        """Return every service code, in file order."""
        return [service.code for service in self.services]


def _describe(exc: ValidationError) -> str:
    """Render a ValidationError as `field: message` pairs, without pydantic's URLs."""
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        location = ".".join(str(part) for part in error["loc"])
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _entry_label(index: int, raw: Any) -> str:
    """Describe a raw `[[services]]` entry for error messages."""
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"services[{index}] (code={code!r})"


def _parse_services(raw_services: Any, path: Path) -> tuple[Service, ...]:
    """Validate each `[[services]]` entry, naming the entry when one is invalid."""
    if not isinstance(raw_services, list):
        raise CatalogueError(f"{path}: expected a [[services]] array of tables")
    services = []
    for index, raw in enumerate(raw_services):
        try:
            services.append(Service.model_validate(raw))
        except ValidationError as exc:
            raise CatalogueError(
                f"{path}: {_entry_label(index, raw)} is invalid: {_describe(exc)}"
            ) from exc
    return tuple(services)


def _parse_agencies(raw_agencies: Any, path: Path, regency: str) -> dict[str, Agency]:
    """Validate the `[agencies]` table of slug = display name (`{regency}` filled in)."""
    if not isinstance(raw_agencies, dict):
        raise CatalogueError(f"{path}: expected an [agencies] table of slug = name")
    agencies = {}
    for slug, name in raw_agencies.items():
        if isinstance(name, str):
            name = name.replace(REGENCY_PLACEHOLDER, regency)
        try:
            agencies[slug] = Agency(slug=slug, name=name)
        except ValidationError as exc:
            raise CatalogueError(f"{path}: agency {slug!r} is invalid: {_describe(exc)}") from exc
    return agencies


def _read_catalogue(path: Path, regency: str) -> Catalogue:
    """Parse and validate one catalogue file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read catalogue: {exc}") from exc
    agencies = _parse_agencies(data.get("agencies"), path, regency)
    services = _parse_services(data.get("services"), path)
    try:
        return Catalogue(services=services, agencies=agencies)
    except ValidationError as exc:
        raise CatalogueError(f"{path}: {_describe(exc)}") from exc


@functools.cache
def _default_catalogue(regency: str) -> Catalogue:
    """Load the shipped catalogue once per process and regency."""
    return _read_catalogue(DEFAULT_CATALOGUE_PATH, regency)


def load_catalogue(path: Path | None = None, regency: str = DEFAULT_REGENCY) -> Catalogue:
    """Load and validate a catalogue file (default: the shipped one, cached), its agencies
    named for `regency` (`Samsat Kabupaten Karawang`)."""
    if path is None:
        return _default_catalogue(regency)
    return _read_catalogue(Path(path), regency)
