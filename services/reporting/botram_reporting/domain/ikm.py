"""The Indeks Kepuasan Masyarakat (IKM) of the satisfaction survey, per PermenPAN-RB No. 14 of
2017. Pure: the formula, the bands and the breakdowns, no I/O.

For a group of answers, each element's mean (nilai rata-rata unsur, NRR) is the sum of its
scores over the number of answers; the weighted mean is the sum of the nine NRR each times the
weight 1/9 (equal weights: 1 / the number of elements); the IKM is the weighted mean × 25, the
conversion to 25-100. The band (mutu pelayanan) follows the regulation's conversion table,
applied to the IKM rounded to two decimals as the regulation's table states it:

| IKM            | band | kinerja unit pelayanan |
|----------------|------|------------------------|
| 88.31 - 100.00 | A    | Sangat Baik            |
| 76.61 - 88.30  | B    | Baik                   |
| 65.00 - 76.60  | C    | Kurang Baik            |
| 25.00 - 64.99  | D    | Tidak Baik             |
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from botram_contracts.vocabulary import Level

ELEMENTS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")
ELEMENT_NAMES = {
    "u1": "Persyaratan",
    "u2": "Sistem, mekanisme dan prosedur",
    "u3": "Waktu penyelesaian",
    "u4": "Biaya/tarif",
    "u5": "Produk spesifikasi jenis pelayanan",
    "u6": "Kompetensi pelaksana",
    "u7": "Perilaku pelaksana",
    "u8": "Penanganan pengaduan, saran dan masukan",
    "u9": "Sarana dan prasarana",
}
WEIGHT = 1 / len(ELEMENTS)
CONVERSION = 25
# Lowest IKM of each band, best first (the regulation's conversion table).
BANDS: tuple[tuple[float, str, str], ...] = (
    (88.31, "A", "Sangat Baik"),
    (76.61, "B", "Baik"),
    (65.00, "C", "Kurang Baik"),
    (0.0, "D", "Tidak Baik"),
)


def nrr(scores: Iterable[Sequence[int]]) -> tuple[float, ...]:
    """Each element's mean score (NRR) over a group's answers (nine zeros for none)."""
    totals, count = [0] * len(ELEMENTS), 0
    for answer in scores:
        count += 1
        for index, score in enumerate(answer):
            totals[index] += score
    return tuple(total / count if count else 0.0 for total in totals)


def ikm(means: Sequence[float]) -> float:
    """The IKM from the nine NRR: the weighted sum (each × 1/9), converted (× 25)."""
    return sum(mean * WEIGHT for mean in means) * CONVERSION


def band(index: float) -> tuple[str, str]:
    """The band (A-D) and its words for an IKM, by the regulation's conversion table."""
    rounded = round(index, 2)
    for lowest, letter, words in BANDS:
        if rounded >= lowest:
            return letter, words
    return BANDS[-1][1], BANDS[-1][2]


class AnswerLike(Protocol):
    """A stored survey answer (read only): where and when, and the nine scores."""

    @property
    def session_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def day(self) -> date: ...
    def scores(self) -> tuple[int, ...]: ...


class IkmDimension(StrEnum):
    """What an IKM report is broken down by."""

    AGENCY = "agency"
    SERVICE = "service"
    SESSION = "session"
    KECAMATAN = "kecamatan"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class IkmGroup:
    """The IKM of one group of answers."""

    key: dict[str, str]
    responses: int
    means: tuple[float, ...]  # u1 … u9
    ikm: float
    band: str
    band_label: str


@dataclass(frozen=True, slots=True)
class ComputeIkm:
    """Which answers an IKM report counts (every filter optional)."""

    start: date | None = None
    end: date | None = None
    agency: str | None = None
    service: str | None = None
    level: Level | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class IkmReport:
    question: ComputeIkm
    overall: IkmGroup
    groups: dict[IkmDimension, list[IkmGroup]]


# How an answer falls into a group of each breakdown.
_KEYS: dict[IkmDimension, Callable[[Any], dict[str, str]]] = {
    IkmDimension.AGENCY: lambda a: {"agency": a.agency},
    IkmDimension.SERVICE: lambda a: {"agency": a.agency, "service": a.service},
    IkmDimension.SESSION: lambda a: {
        "session_id": a.session_id,
        "level": a.level,
        "kecamatan": a.kecamatan,
        "date": a.day.isoformat(),
    },
    IkmDimension.KECAMATAN: lambda a: {"kecamatan": a.kecamatan},
    IkmDimension.MONTH: lambda a: {"month": a.day.strftime("%Y-%m")},
}


def group_of(key: dict[str, str], answers: Sequence[AnswerLike]) -> IkmGroup:
    means = nrr(answer.scores() for answer in answers)
    index = ikm(means) if answers else 0.0
    letter, words = band(index) if answers else ("", "")
    return IkmGroup(key, len(answers), means, index, letter, words)


def ikm_report(question: ComputeIkm, answers: Sequence[AnswerLike]) -> IkmReport:
    """The IKM over all answers, then per agency, service, session, kecamatan and month."""
    groups: dict[IkmDimension, list[IkmGroup]] = {}
    for dimension, key_of in _KEYS.items():
        by_key: dict[tuple[tuple[str, str], ...], list[AnswerLike]] = defaultdict(list)
        for answer in answers:
            by_key[tuple(key_of(answer).items())].append(answer)
        groups[dimension] = [group_of(dict(key), by_key[key]) for key in sorted(by_key)]
    return IkmReport(question, group_of({}, answers), groups)


def ikm_rows(report: IkmReport) -> list[dict[str, Any]]:
    """The report as flat rows, one per group (overall first), for CSV and spreadsheets:
    `breakdown`, the group's key columns, `responses`, `u1`…`u9` (NRR), `ikm`, `band`."""
    keys = ("agency", "service", "session_id", "level", "kecamatan", "date", "month")
    rows = []
    for dimension, group in [("overall", report.overall)] + [
        (str(d), g) for d, groups in report.groups.items() for g in groups
    ]:
        row: dict[str, Any] = {"breakdown": dimension}
        row |= {key: group.key.get(key, "") for key in keys}
        row["responses"] = group.responses
        row |= {e: round(m, 3) for e, m in zip(ELEMENTS, group.means, strict=True)}
        row |= {"ikm": round(group.ikm, 2), "band": group.band, "band_label": group.band_label}
        rows.append(row)
    return rows
