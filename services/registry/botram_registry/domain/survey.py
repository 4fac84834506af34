"""The satisfaction survey (Survei Kepuasan Masyarakat, PermenPAN-RB No. 14 of 2017).

Nine elements, each answered 1-4 with the regulation's answer labels; offered once per ticket
served. Pure: the questionnaire and its rules, no I/O.
"""

from dataclasses import dataclass
from enum import StrEnum

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.tickets import TicketStatus
from botram_runtime.errors import Conflict


@dataclass(frozen=True, slots=True)
class SkmElement:
    """One element of the questionnaire: its key (`u1`…`u9`), name, question, four labels."""

    key: str
    name: str
    question: str
    labels: tuple[str, str, str, str]  # for the scores 1, 2, 3, 4


# The questionnaire of the regulation's appendix, in Bahasa Indonesia.
QUESTIONNAIRE: tuple[SkmElement, ...] = (
    SkmElement(
        "u1",
        "Persyaratan",
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis "
        "pelayanannya?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    SkmElement(
        "u2",
        "Sistem, mekanisme dan prosedur",
        "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
        ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
    ),
    SkmElement(
        "u3",
        "Waktu penyelesaian",
        "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
        ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
    ),
    SkmElement(
        "u4",
        "Biaya/tarif",
        "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
        ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
    ),
    SkmElement(
        "u5",
        "Produk spesifikasi jenis pelayanan",
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum "
        "dalam standar pelayanan dengan hasil yang diberikan?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    SkmElement(
        "u6",
        "Kompetensi pelaksana",
        "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
        ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
    ),
    SkmElement(
        "u7",
        "Perilaku pelaksana",
        "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
        "kesopanan dan keramahan?",
        (
            "Tidak sopan dan ramah",
            "Kurang sopan dan ramah",
            "Sopan dan ramah",
            "Sangat sopan dan ramah",
        ),
    ),
    SkmElement(
        "u8",
        "Penanganan pengaduan, saran dan masukan",
        "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
        (
            "Tidak ada",
            "Ada tetapi tidak berfungsi",
            "Berfungsi kurang maksimal",
            "Dikelola dengan baik",
        ),
    ),
    SkmElement(
        "u9",
        "Sarana dan prasarana",
        "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
        ("Buruk", "Cukup", "Baik", "Sangat baik"),
    ),
)
ELEMENT_KEYS = tuple(element.key for element in QUESTIONNAIRE)


class SurveyState(StrEnum):
    """Whether a ticket's holder may answer the survey now."""

    OPEN = "open"  # served, not answered yet
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class AnswerSurvey:
    """A citizen's answers for one ticket, reached by its status code."""

    code: str
    scores: tuple[int, int, int, int, int, int, int, int, int]  # u1 … u9, each 1-4


def survey_state(status: str, outcome: str | None, answered: bool) -> SurveyState | None:
    """The survey of a ticket: offered once its service is completed as served."""
    if answered:
        return SurveyState.ANSWERED
    if status == TicketStatus.COMPLETED and outcome == Outcome.SERVED:
        return SurveyState.OPEN
    return None


def check_survey_open(state: SurveyState | None) -> None:
    """Refuse an answer for a ticket not served, or already answered (409)."""
    if state is SurveyState.ANSWERED:
        raise Conflict("This ticket's survey was already answered", code="survey-already-answered")
    if state is None:
        raise Conflict(
            "The survey opens once this ticket's service is completed as served",
            code="survey-not-open",
        )
