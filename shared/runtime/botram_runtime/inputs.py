"""What an HTTP request may carry: the input types every service's schemas are built from.

Free text (names, desk labels, venues, notes, reasons) reaches screens, SMS, agencies' webhooks
and the database. Control characters (NUL among them: PostgreSQL refuses it in text, and its
error message would carry the whole row), lone surrogates (no UTF-8 for them) and the bidi
overrides that make a desk label read backwards (U+202A-U+202E, U+2066-U+2069) are refused,
with a 422 that never echoes the input. Dates are bounded to years a fair can happen in, so
arithmetic on them never overflows, and moments must say their time zone.
"""

import unicodedata
from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# Bidi embedding, override and isolate controls: they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line breaks a textarea sends; allowed in paragraphs (notes, reasons), not in one-line text.
LINE_BREAKS = frozenset("\n\r\t")
# Unicode categories never meant for people: controls (Cc), lone surrogates (Cs).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_MOMENT = datetime.combine(FIRST_DAY, time.min, tzinfo=UTC)
LAST_MOMENT = datetime.combine(LAST_DAY, time.max, tzinfo=UTC)


def refused_character(text: str, *, line_breaks: bool = False) -> str | None:
    """The first character free text may not hold, named for a person (None: all fine)."""
    for character in text:
        if line_breaks and character in LINE_BREAKS:
            continue
        if character in BIDI_CONTROLS:
            return f"a bidirectional control character (U+{ord(character):04X})"
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            return f"a control character (U+{ord(character):04X})"
    return None


def _plain_line(text: str) -> str:
    refused = refused_character(text)
    if refused:
        raise ValueError(f"text must not contain {refused}")
    return text


def _plain_paragraph(text: str) -> str:
    refused = refused_character(text, line_breaks=True)
    if refused:
        raise ValueError(f"text must not contain {refused}")
    return text


def _sane_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"date must be between {FIRST_DAY} and {LAST_DAY}")
    return day


def _sane_moment(moment: datetime) -> datetime:
    if not FIRST_MOMENT <= moment <= LAST_MOMENT:
        raise ValueError(f"time must be between {FIRST_DAY} and {LAST_DAY}")
    return moment


# One line of text a person typed: a name, a desk label, a venue.
PlainText = Annotated[str, AfterValidator(_plain_line)]
# Text that may span lines (a textarea): a note, a reason.
Paragraph = Annotated[str, AfterValidator(_plain_paragraph)]
# A calendar day in 2000-2100 (a fair's date, a report's range).
Day = Annotated[date, AfterValidator(_sane_day)]
# A moment with its time zone, in 2000-2100 (an offline desk's clock, a replay's start).
Moment = Annotated[AwareDatetime, AfterValidator(_sane_moment)]
# A lowercase code or slug from the catalogue or the regions (`ktp-el`, `sukatani`).
Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
# An opaque identifier from the URL or a body (a UUID here, but never assumed to be one).
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
# How far into a listing a page starts: bounded so the database never sees an integer it
# cannot hold (SQLite and PostgreSQL take 64-bit signed integers).
MAX_OFFSET = 1_000_000
# Lists in a request are short: a check-in names a few services, a subscription a few types.
MAX_ITEMS = 100
