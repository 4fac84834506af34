"""Citizen messages (Bahasa Indonesia) and the queue projection they are computed from.

Phone numbers arrive only on `botram.private.>`, are used only to send, never logged, and
are erased when the session closes. A message is queued once per (kind, ticket or session,
check-in), then sent, or skipped (opted out, rate limited), or failed (the gateway refused).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum

from botram_notifier.domain.next_session import Candidate
from botram_runtime.actors import Actor
from botram_runtime.clock import tanggal


class MessageKind(StrEnum):
    TICKET_ISSUED = "ticket_issued"
    TURN_NEAR = "turn_near"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_MOVED = "session_moved"
    TICKETS_EXPIRED = "tickets_expired"
    PRE_REGISTERED = "pre_registered"
    DOCUMENT_READY = "document_ready"
    SURVEY_INVITED = "survey_invited"
    SERVICES_REMOVED = "services_removed"


# Kinds queued as the session ends (its contacts are erased then), or after it (an agency's
# follow-up, whose phone came with it): kept until sent, and the phone forgotten once sent
# (or skipped, or refused).
AFTER_THE_SESSION = frozenset({MessageKind.TICKETS_EXPIRED, MessageKind.DOCUMENT_READY})
# Kinds whose phone is forgotten once sent: those above, and the pre-registration's slot,
# queued days before the session (the pre-registration's contact keeps the phone until its
# slot ends: `usecases.pre_registered`), so its copy never outlives the retention.
FORGOTTEN_ONCE_SENT = AFTER_THE_SESSION | {MessageKind.PRE_REGISTERED}


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"  # opted out or rate limited
    FAILED = "failed"  # the gateway did not accept it


class QueueStatus(StrEnum):
    """A ticket in the notifier's projection of a desk queue."""

    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    # Still waiting when its session ended (the registry's ticket.expired or ticket.cancelled
    # may come before the session's own event, on another consumer): told, then done.
    ENDED = "ended"


# The tickets whose holders a session's end (a close, a cancellation) is told to.
STILL_WAITING = (QueueStatus.WAITING, QueueStatus.ENDED)
# An emergency cancellation interrupts everyone not yet served: those still waiting and
# those at a desk. Counting the called ones too keeps the audience the same whether or not
# the notifier has seen the call yet (ticket and session events come on separate consumers).
INTERRUPTED = (*STILL_WAITING, QueueStatus.CALLED)


OPTED_OUT = "opted out"
RATE_LIMITED = "rate limited"


@dataclass(frozen=True, slots=True)
class OptOutPhone:
    """A citizen asks for no more messages (e.g. relayed from the gateway's STOP reply)."""

    actor: Actor
    phone: str


def phone_hash(phone: str, key: bytes) -> str:
    """How an opted-out phone is kept: HMAC-SHA256 with a secret key, never a plain hash."""
    digits = phone.removeprefix("+")
    # One number, one hash: 0812…, 62812… and +62812… are the same phone.
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


# The texts, unsigned: each message is signed with the regency's signature as it is queued
# (`signed`, `BOTRAM_SMS_SIGNATURE`, default `Botram Kab. <regency>`), so no text names a regency.
TEMPLATES = {
    MessageKind.TICKET_ISSUED: (
        "nomor antrean Anda {number} untuk layanan {service}. "
        "Perkiraan waktu tunggu sekitar {wait_minutes} menit. Balas STOP untuk berhenti."
    ),
    MessageKind.TURN_NEAR: (
        "giliran Anda sudah dekat. Nomor {number} ({service}): "
        "tinggal {ahead} antrean lagi. Mohon bersiap di dekat meja layanan."
    ),
    MessageKind.SESSION_CANCELLED: (
        "mohon maaf, layanan Botram di {place} pada {date} dibatalkan. Alasan: {reason}."
    ),
    MessageKind.SESSION_MOVED: (
        "layanan Botram di {place} dipindahkan dari {previous_date} ke {date}. Alasan: {reason}."
    ),
    MessageKind.TICKETS_EXPIRED: (
        "mohon maaf, layanan Botram di {place} hari ini sudah ditutup "
        "sebelum nomor {numbers} terlayani. Silakan datang ke Botram berikutnya yang membuka "
        "layanan tersebut. {schedule}"
    ),
    MessageKind.PRE_REGISTERED: (
        "Anda terdaftar di Botram {place} pada {date}, datang pukul "
        "{start}-{end} WIB, untuk layanan {services}. Kode pendaftaran: {code}. Tunjukkan "
        "kode QR di meja pendaftaran{link}. Bila datang setelah pukul {end}, tempat Anda dapat "
        "diberikan kepada warga lain."
    ),
    MessageKind.DOCUMENT_READY: (
        "dokumen layanan {service} (nomor {number}) sudah siap. Silakan ambil di {place}{until}."
    ),
    MessageKind.SERVICES_REMOVED: (
        "mohon maaf, layanan {services} tidak lagi tersedia di Botram {place} pada {date}. {rest}"
    ),
    MessageKind.SURVEY_INVITED: (
        "terima kasih telah menggunakan layanan {service}. Mohon isi "
        "survei kepuasan masyarakat (tanpa nama, 9 pertanyaan, sekali saja): {link}"
    ),
}
# Where the next sessions are, when the notifier has no address of the schedule to give.
NO_SCHEDULE_LINK = "Jadwal Botram berikutnya diumumkan di kantor kecamatan dan desa."
# The session a cancellation points to (`domain.next_session`), after the reason.
NEXT_SESSION = "Botram terdekat berikutnya: {place}, {date} pukul {start}{venue}."


def signed(signature: str, body: str) -> str:
    """`Botram Kab. Karawang: <body>`: who sends it, first (a phone shows that much unopened)."""
    return f"{signature}: {body}"


def render(kind: MessageKind, **values: object) -> str:
    return TEMPLATES[kind].format(**values)


def place_name(slug: str) -> str:
    """`muara-gembong` -> `Muara Gembong`."""
    return slug.replace("-", " ").title()


def ticket_issued(
    number: str,
    service_name: str,
    position: int,
    mean_service_minutes: float,
    status_link: str | None = None,
) -> str:
    """The number, and the wait: every ticket ahead takes the service's mean time; with the
    link of the ticket's status page when the registry sent one."""
    minutes = (position - 1) * mean_service_minutes
    text = render(
        MessageKind.TICKET_ISSUED, number=number, service=service_name, wait_minutes=round(minutes)
    )
    return f"{text} Pantau antrean: {status_link}" if status_link else text


def survey_invited(service_name: str, status_link: str) -> str:
    """After a ticket is served: the link of its status page, where the survey waits."""
    return render(MessageKind.SURVEY_INVITED, service=service_name, link=status_link)


def turn_near(number: str, service_name: str, position: int) -> str:
    return render(MessageKind.TURN_NEAR, number=number, service=service_name, ahead=position - 1)


def session_cancelled(
    place: str, day: date, reason: str, next_session: Candidate | None = None
) -> str:
    """The cancellation, its reason, and where to go next: the session `next_session` chose,
    or where the schedule is announced when the notifier knows none."""
    text = render(
        MessageKind.SESSION_CANCELLED, place=place_name(place), date=tanggal(day), reason=reason
    )
    if next_session is None:
        return f"{text} {NO_SCHEDULE_LINK}"
    where = next_session.desa or next_session.kecamatan
    venue = f" di {next_session.venue}" if next_session.venue else ""
    follow = NEXT_SESSION.format(
        place=place_name(where),
        date=tanggal(next_session.date),
        start=next_session.start.strftime("%H.%M"),
        venue=venue,
    )
    return f"{text} {follow}"


def session_moved(place: str, previous: date, day: date, reason: str) -> str:
    return render(
        MessageKind.SESSION_MOVED,
        place=place_name(place),
        previous_date=tanggal(previous),
        date=tanggal(day),
        reason=reason,
    )


def tickets_expired(place: str, numbers: list[tuple[str, str]], schedule_url: str | None) -> str:
    """One message per citizen at a session's close: every number still waiting, with its
    service (`KK-012 untuk layanan Kartu Keluarga (KK)`), and where the next sessions are."""
    listed = ", ".join(f"{number} untuk layanan {service}" for number, service in numbers)
    schedule = f"Jadwal: {schedule_url}" if schedule_url else NO_SCHEDULE_LINK
    return render(
        MessageKind.TICKETS_EXPIRED, place=place_name(place), numbers=listed, schedule=schedule
    )


def pre_registered(
    place: str,
    day: date,
    slot: tuple[time, time],
    services: list[str],
    code: str,
    qr_link: str | None,
) -> str:
    """The arrival slot, the code and the link to its QR code (`place` is already a name)."""
    return render(
        MessageKind.PRE_REGISTERED,
        place=place,
        date=tanggal(day),
        start=slot[0].strftime("%H.%M"),
        end=slot[1].strftime("%H.%M"),
        services=", ".join(services),
        code=code,
        link=f": {qr_link}" if qr_link else "",
    )


def slot_after_move(slot: tuple[time, time], hours: tuple[time, time] | None) -> str:
    """What a pre-registered citizen does after their session moved: their slot, on the new
    date, when it is still within the session's hours; else the hours, by the same code."""
    start, end = slot[0].strftime("%H.%M"), slot[1].strftime("%H.%M")
    if hours is None or (hours[0] <= slot[0] and slot[1] <= hours[1]):
        return f"Silakan datang pada slot Anda, pukul {start}-{end} WIB, dengan kode yang sama."
    return (
        f"Slot pukul {start}-{end} WIB tidak lagi ada; silakan datang pukul "
        f"{hours[0]:%H.%M}-{hours[1]:%H.%M} WIB dengan kode yang sama."
    )


def services_removed(place: str, day: date, removed: list[str], kept: list[str]) -> str:
    """A session update removed services a citizen pre-registered for."""
    rest = (
        f"Pendaftaran Anda untuk layanan {', '.join(kept)} tetap berlaku."
        if kept
        else f"Pendaftaran Anda tidak dapat dilayani di sana. {NO_SCHEDULE_LINK}"
    )
    return render(
        MessageKind.SERVICES_REMOVED,
        services=", ".join(removed),
        place=place_name(place),
        date=tanggal(day),
        rest=rest,
    )


def same_phone(one: str, other: str) -> bool:
    """0812…, 62812… and +62812… are the same phone."""
    return _digits(one) == _digits(other)


def _digits(phone: str) -> str:
    digits = phone.removeprefix("+")
    return "62" + digits[1:] if digits.startswith("0") else digits


def document_ready(
    number: str,
    service_name: str,
    place: str,
    until: date | None,
    note: str | None,
    status_link: str | None,
) -> str:
    """An agency's follow-up: the document is ready, where to collect it and by when, with
    the agency's note and the ticket's page (which shows the same) when there are."""
    text = render(
        MessageKind.DOCUMENT_READY,
        number=number,
        service=service_name,
        place=place,
        until=f" paling lambat {tanggal(until)}" if until else "",
    )
    if note:
        text += f" {note}"
    return f"{text} Info: {status_link}" if status_link else text


def ticket_key(kind: MessageKind, ticket_id: str) -> str:
    """One message of a kind per ticket: a redelivered event queues nothing new."""
    return f"{kind}:{ticket_id}"


def session_key(kind: MessageKind, event_id: str, check_in_id: str) -> str:
    """One message per session event and check-in."""
    return f"{kind}:{event_id}:{check_in_id}"


def position_after_call(stored: int, place: int | None, named: int, everyone_named: bool) -> int:
    """A waiting ticket's position after a desk called another ticket of its queue.

    The call's `up_next` names the first `named` tickets of the queue in the registry's fair
    order: a named ticket is at its `place` there. A ticket not named is behind them all; a
    call brings it at most one place closer (only calls do: arrivals never bring anyone
    closer). When the call named everyone waiting, a ticket it did not name was issued after
    that call, or has been called since: its position stays as it is.
    """
    if place is not None:
        return place
    if everyone_named:
        return stored
    return max(stored - 1, named + 1)


def position_without_order(stored: int) -> int:
    """After a call from a registry that does not publish `up_next`: first in, first out."""
    return max(stored - 1, 1)


def last_near_position(near: int) -> int:
    """`position` is "tickets ahead + 1": near when `near` or fewer tickets are ahead."""
    return near + 1


def is_turn_near(position: int, near: int) -> bool:
    """A ticket already near when issued gets no second message: the number message says so."""
    return position <= last_near_position(near)


def reason_not_to_send(opted_out: bool, sent_last_hour: int, max_per_hour: int) -> str | None:
    """Why a message is skipped (None: send it): opt-outs first, then the hourly limit."""
    if opted_out:
        return OPTED_OUT
    if sent_last_hour >= max_per_hour:
        return RATE_LIMITED
    return None
