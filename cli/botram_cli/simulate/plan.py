"""The simulated day: who arrives when, for what, and how long each desk takes. Pure and seeded."""

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from botram_contracts.reference import Catalogue, Service

# Share of a day's arrivals in each hour from 08:00: a morning peak that tails off.
ARRIVALS_BY_HOUR = (0.20, 0.24, 0.19, 0.14, 0.11, 0.08, 0.04)
OUTCOME_WEIGHTS = {"served": 0.90, "referred": 0.06, "rejected": 0.04}
NO_SHOW_PATIENCE_SECONDS = 60.0  # how long a desk waits for a called citizen who never comes
# How a served citizen scores each SKM element (1-4): mostly satisfied, some not.
SURVEY_SCORE_WEIGHTS = (0.05, 0.15, 0.50, 0.30)

FIRST_NAMES = (
    "Siti", "Dewi", "Nur", "Sri", "Rina", "Aisyah", "Putri", "Wati", "Lestari", "Fitri",
    "Budi", "Agus", "Ahmad", "Dedi", "Rudi", "Asep", "Ujang", "Eko", "Hendra", "Joko",
)  # fmt: skip
LAST_NAMES = (
    "Aminah", "Rahayu", "Hidayat", "Saputra", "Susanti", "Permana", "Nugraha", "Kurniawan",
    "Maulana", "Setiawan", "Wulandari", "Sulastri", "Gunawan", "Suryani", "Firmansyah",
)  # fmt: skip
# Regency codes of non-residents who cross over (those of the neighbours of the regency the
# simulation runs in): Kota Bekasi, Jakarta Timur, Kabupaten Karawang, Kabupaten Bekasi.
NEIGHBOURS = ("3275", "3172", "3215", "3216")


# The simulated session's hours, from now (`session_hours`): its arrival slots are still open
# whatever the time of day, so pre-registration is exercised after the fair's usual hours too.
SESSION_HOURS = timedelta(hours=3)
LAST_MINUTE = time(23, 59)


def session_hours(now: datetime) -> tuple[time, time]:
    """A new simulated session's hours on the local (WIB) wall clock: from this minute for
    `SESSION_HOURS`, ending by midnight (its day is today); at 23:58 or later, the last
    two minutes."""
    start = min(now.time().replace(second=0, microsecond=0), time(23, 57))
    later = datetime.combine(now.date(), start) + SESSION_HOURS
    end = LAST_MINUTE if later.date() > now.date() else min(later.time(), LAST_MINUTE)
    return start, end


class InvalidParameters(ValueError):
    """Simulation parameters that make no sense, with a message saying which and why."""


@dataclass(frozen=True)
class Parameters:
    citizens: int = 300
    seed: int = 1
    desks_per_agency: int = 2
    no_show_share: float = 0.05
    priority_share: float = 0.10
    resident_share: float = 0.85
    phone_share: float = 0.5
    # Registered ahead by a desa office or a cadre, checked in by their QR code on arrival.
    pre_registered_share: float = 0.10
    # Share of served or referred tickets whose agency later says the document is ready.
    follow_up_share: float = 0.3
    survey_share: float = 0.6  # of citizens served, those who answer the survey
    max_services_per_citizen: int = 3
    # The regency's code (BOTRAM_REGENCY_CODE): residents' NIKs start with it.
    regency_code: str = "3216"
    open_hours: int = len(ARRIVALS_BY_HOUR)

    def validate(self) -> "Parameters":
        if self.citizens < 1:
            raise InvalidParameters(f"citizens must be at least 1 (got {self.citizens})")
        if self.desks_per_agency < 1:
            raise InvalidParameters(
                f"desks per agency must be at least 1 (got {self.desks_per_agency})"
            )
        shares = ("no_show_share", "priority_share", "resident_share", "phone_share")
        for name in (*shares, "pre_registered_share", "follow_up_share", "survey_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise InvalidParameters(
                    f"{name.replace('_', ' ')} must be between 0 and 1 (got {value})"
                )
        if self.max_services_per_citizen < 1:
            raise InvalidParameters("a citizen comes for at least one service")
        if not 1 <= self.open_hours <= len(ARRIVALS_BY_HOUR):
            raise InvalidParameters(f"open hours must be 1..{len(ARRIVALS_BY_HOUR)}")
        return self


@dataclass(frozen=True)
class Citizen:
    arrival_seconds: float
    nik: str
    name: str
    phone: str | None
    services: tuple[str, ...]
    priority: bool
    pre_registered: bool = False


@dataclass
class DayPlan:
    citizens: list[Citizen]
    rng: random.Random = field(repr=False)
    service_minutes: dict[str, float] = field(default_factory=dict)

    def service_seconds(self, code: str) -> float:
        """A desk's time for one citizen: lognormal around the service's mean."""
        mean = self.service_minutes[code] * 60
        sigma = 0.5
        return max(30.0, self.rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma))

    def outcome(self) -> str:
        return self.rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]

    def no_show(self, share: float) -> bool:
        return self.rng.random() < share

    def follows_up(self, share: float) -> bool:
        """Whether the agency of a served or referred ticket reports its document ready."""
        return self.rng.random() < share

    def survey_answers(self, share: float) -> tuple[int, ...] | None:
        """A served citizen's nine SKM scores, or None for one who does not answer."""
        if self.rng.random() >= share:
            return None
        return tuple(self.rng.choices((1, 2, 3, 4), weights=SURVEY_SCORE_WEIGHTS, k=9))


def make_plan(params: Parameters, offered: list[Service], day: date) -> DayPlan:
    """Everyone who comes to the session, in order of arrival."""
    params.validate()
    if not offered:
        raise InvalidParameters("the session offers no service")
    rng = random.Random(params.seed)
    weights = [s.demand_weight for s in offered]
    hours = ARRIVALS_BY_HOUR[: params.open_hours]
    serials = rng.sample(range(1, 10_000), params.citizens)
    citizens = []
    for serial in serials:
        hour = rng.choices(range(len(hours)), weights=hours)[0]
        wanted = rng.randint(1, min(params.max_services_per_citizen, len(offered)))
        services: list[str] = []
        while len(services) < wanted:  # bounded: `wanted` never exceeds what is offered
            code = rng.choices(offered, weights=weights)[0].code
            if code not in services:
                services.append(code)
        citizens.append(
            Citizen(
                arrival_seconds=(hour + rng.random()) * 3600,
                nik=_nik(
                    rng,
                    serial,
                    day,
                    home=params.regency_code,
                    resident=rng.random() < params.resident_share,
                ),
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                phone=f"08{rng.randint(10**9, 10**10 - 1)}"
                if rng.random() < params.phone_share
                else None,
                services=tuple(services),
                priority=rng.random() < params.priority_share,
            )
        )
    # A generator of its own: the same seed still gives the same arrivals as before.
    ahead = random.Random(f"{params.seed}-pre-registered")
    citizens = [
        replace(c, pre_registered=ahead.random() < params.pre_registered_share) for c in citizens
    ]
    citizens.sort(key=lambda c: c.arrival_seconds)
    return DayPlan(citizens, rng, {s.code: s.mean_service_minutes for s in offered})


def _nik(rng: random.Random, serial: int, day: date, *, home: str, resident: bool) -> str:
    others = tuple(code for code in NEIGHBOURS if code != home)
    regency = home if resident else rng.choice(others)
    kecamatan = f"{rng.randint(1, 23):02d}"
    age = rng.choices([rng.randint(1, 17), rng.randint(18, 59), rng.randint(60, 85)], [15, 70, 15])[
        0
    ]
    year = day.year - age
    month, birth_day = rng.randint(1, 12), rng.randint(1, 28)
    if rng.random() < 0.5:
        birth_day += 40  # women
    return f"{regency}{kecamatan}{birth_day:02d}{month:02d}{year % 100:02d}{serial:04d}"


def offered_services(catalogue: Catalogue, codes: list[str]) -> list[Service]:
    return [catalogue.get(code) for code in codes if code in catalogue]
