"""Demand rankings: which services were asked for most, over which window."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from botram_contracts.events import DemandRankedV1
from botram_contracts.reference import Service
from botram_contracts.vocabulary import Level
from botram_reporting.domain.reports import TicketLike, check_period
from botram_runtime.actors import Actor


@dataclass(frozen=True, slots=True)
class RankDemand:
    """Which services were asked for most at sessions of `level` (default: the window to today)?"""

    level: Level = Level.KECAMATAN
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class PublishRanking:
    """Publish the demand ranking of the configured window ending on `end` (default: today)."""

    actor: Actor
    level: Level = Level.KECAMATAN
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Ranked:
    """One service's place in a demand ranking."""

    service: str
    agency: str
    tickets: int


@dataclass(frozen=True, slots=True)
class DemandRanking:
    start: date
    end: date
    level: Level
    ranking: list[Ranked]


@dataclass(frozen=True, slots=True)
class PublishedRanking:
    """The `demand.ranked` event staged in the outbox (published after the commit)."""

    event_id: str
    subject: str
    data: DemandRankedV1


def demand_window(days: int, end: date, start: date | None = None) -> tuple[date, date]:
    """The demand ranking's period: `days` days up to `end` unless `start` is given."""
    start = start or end - timedelta(days=days - 1)
    check_period(start, end)
    return start, end


def demand_ranking(tickets: Iterable[TicketLike], catalogue: Iterable[Service]) -> list[Ranked]:
    """Services ranked by tickets issued (ties by code); catalogue services with none last."""
    counts: Counter[tuple[str, str]] = Counter((t.service, t.agency) for t in tickets)
    for service in catalogue:
        counts.setdefault((service.code, service.agency), 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return [Ranked(service, agency, count) for (service, agency), count in ranked]
