"""Citizen messages: their texts, when the turn is near, when a message is not sent."""

from datetime import date, time

from botram_notifier.domain import messages
from botram_notifier.domain.messages import (
    OPTED_OUT,
    RATE_LIMITED,
    TEMPLATES,
    MessageKind,
    document_ready,
    is_turn_near,
    last_near_position,
    position_after_call,
    position_without_order,
    reason_not_to_send,
    session_cancelled,
    session_key,
    signed,
    ticket_issued,
    ticket_key,
    tickets_expired,
    turn_near,
)


def test_the_number_message_counts_the_tickets_ahead_at_the_mean_service_time() -> None:
    text = ticket_issued("KK-004", "Kartu Keluarga (KK)", position=4, mean_service_minutes=10)

    assert text == (
        "nomor antrean Anda KK-004 untuk layanan Kartu Keluarga (KK). "
        "Perkiraan waktu tunggu sekitar 30 menit. Balas STOP untuk berhenti."
    )
    assert "sekitar 0 menit" in ticket_issued("KK-001", "KK", 1, 10)


def test_texts_name_no_regency_the_signature_does() -> None:
    for template in TEMPLATES.values():
        assert "Botram Kab." not in template and "Bekasi" not in template

    assert signed("Botram Kab. Karawang", "giliran Anda sudah dekat.") == (
        "Botram Kab. Karawang: giliran Anda sudah dekat."
    )


def test_the_number_message_links_the_tickets_status_page_when_the_registry_sent_it() -> None:
    link = "https://botram.example/t/5mQd0n1Yf3kH8pQzR2sT4w"

    text = ticket_issued("KK-004", "KK", position=1, mean_service_minutes=10, status_link=link)

    assert text.endswith(f"Balas STOP untuk berhenti. Pantau antrean: {link}")


def test_the_turn_near_message_says_how_many_tickets_are_ahead() -> None:
    text = turn_near("KK-004", "Kartu Keluarga (KK)", position=3)

    assert "giliran Anda sudah dekat" in text
    assert "Nomor KK-004 (Kartu Keluarga (KK))" in text
    assert "tinggal 2 antrean lagi" in text


def test_a_cancelled_session_names_the_place_and_the_date() -> None:
    text = session_cancelled("muara-gembong", date(2026, 12, 5), "banjir")

    assert text == (
        "mohon maaf, layanan Botram di Muara Gembong pada 5 Desember 2026 "
        "dibatalkan. Alasan: banjir. "
        "Jadwal Botram berikutnya diumumkan di kantor kecamatan dan desa."
    )


def test_the_turn_is_near_with_k_or_fewer_tickets_ahead() -> None:
    assert last_near_position(2) == 3
    assert is_turn_near(1, near=2) and is_turn_near(3, near=2)
    assert not is_turn_near(4, near=2)


def test_after_a_call_a_ticket_named_as_coming_next_is_at_its_place_there() -> None:
    # A regular ticket at 4 that two priority arrivals pushed back: the call names it 5th.
    assert position_after_call(4, place=5, named=10, everyone_named=False) == 5
    assert position_after_call(9, place=2, named=3, everyone_named=True) == 2


def test_a_ticket_not_named_is_behind_every_named_one_and_at_most_one_closer() -> None:
    assert position_after_call(30, place=None, named=10, everyone_named=False) == 29
    assert position_after_call(8, place=None, named=10, everyone_named=False) == 11


def test_a_call_naming_everyone_waiting_leaves_the_others_where_they_are() -> None:
    # Issued after that call (its contact arrived first), or called since: not moved.
    assert position_after_call(4, place=None, named=3, everyone_named=True) == 4


def test_without_up_next_a_call_moves_everyone_one_closer() -> None:
    assert [position_without_order(p) for p in (5, 2, 1)] == [4, 1, 1]


def test_opt_outs_come_before_the_hourly_limit() -> None:
    assert reason_not_to_send(opted_out=False, sent_last_hour=0, max_per_hour=1) is None
    assert reason_not_to_send(opted_out=False, sent_last_hour=1, max_per_hour=1) == RATE_LIMITED
    assert reason_not_to_send(opted_out=True, sent_last_hour=5, max_per_hour=1) == OPTED_OUT


def test_one_message_per_kind_and_ticket_or_session_event_and_check_in() -> None:
    assert ticket_key(MessageKind.TURN_NEAR, "t-1") == "turn_near:t-1"
    assert ticket_key(MessageKind.TICKET_ISSUED, "t-1") != ticket_key(MessageKind.TURN_NEAR, "t-1")
    assert session_key(MessageKind.SESSION_MOVED, "e-1", "c-1") == "session_moved:e-1:c-1"


def test_a_citizen_still_waiting_at_the_close_gets_every_number_and_the_schedule() -> None:
    numbers = [("KK-012", "Kartu Keluarga (KK)"), ("KTP-003", "KTP-el")]

    text = tickets_expired("muara-gembong", numbers, "https://botram.test/jadwal")

    assert text == (
        "mohon maaf, layanan Botram di Muara Gembong hari ini sudah ditutup "
        "sebelum nomor KK-012 untuk layanan Kartu Keluarga (KK), KTP-003 untuk layanan KTP-el "
        "terlayani. Silakan datang ke Botram berikutnya yang membuka layanan tersebut. "
        "Jadwal: https://botram.test/jadwal"
    )
    without_link = tickets_expired("sukatani", numbers[:1], None)
    assert without_link.endswith("Jadwal Botram berikutnya diumumkan di kantor kecamatan dan desa.")


def test_a_pre_registration_message_names_the_slot_the_code_and_the_qr_link() -> None:
    body = messages.pre_registered(
        "Desa Ciantra",
        date(2026, 12, 8),
        (time(9), time(9, 30)),
        ["Kartu Keluarga (KK)"],
        "ABCDE-23456",
        "https://botram.example/p/ABCDE-23456",
    )

    assert "Desa Ciantra pada 8 Desember 2026" in body
    assert "pukul 09.00-09.30 WIB" in body and "Kartu Keluarga (KK)" in body
    assert "ABCDE-23456" in body and "https://botram.example/p/ABCDE-23456" in body


def test_a_document_ready_message_names_the_place_the_deadline_and_the_note() -> None:
    text = document_ready(
        "KK-007", "Kartu Keluarga (KK)", "Kantor Kecamatan Sukatani", date(2026, 12, 19), None, None
    )
    bare = document_ready("KK-007", "Kartu Keluarga (KK)", "Loket 3", None, None, None)

    assert text == (
        "dokumen layanan Kartu Keluarga (KK) (nomor KK-007) sudah siap. "
        "Silakan ambil di Kantor Kecamatan Sukatani paling lambat 19 Desember 2026."
    )
    assert bare.endswith("Silakan ambil di Loket 3.")


def test_a_moved_pre_registration_keeps_its_slot_or_is_given_the_new_hours() -> None:
    slot = (time(9), time(9, 30))
    assert messages.slot_after_move(slot, (time(8), time(12))) == (
        "Silakan datang pada slot Anda, pukul 09.00-09.30 WIB, dengan kode yang sama."
    )
    assert messages.slot_after_move(slot, None).startswith("Silakan datang pada slot Anda")
    assert messages.slot_after_move(slot, (time(10), time(14))) == (
        "Slot pukul 09.00-09.30 WIB tidak lagi ada; silakan datang pukul 10.00-14.00 WIB "
        "dengan kode yang sama."
    )


def test_a_removed_service_says_whether_the_rest_stands() -> None:
    kept = messages.services_removed("ciantra", date(2026, 12, 8), ["Akta Kelahiran"], ["KTP"])
    assert kept == (
        "mohon maaf, layanan Akta Kelahiran tidak lagi tersedia di Botram Ciantra pada "
        "8 Desember 2026. Pendaftaran Anda untuk layanan KTP tetap berlaku."
    )
    assert "tidak dapat dilayani" in messages.services_removed(
        "ciantra", date(2026, 12, 8), ["KTP"], []
    )


def test_every_spelling_of_a_phone_is_the_same_phone() -> None:
    assert messages.same_phone("081234567890", "+6281234567890")
    assert messages.same_phone("6281234567890", "081234567890")
    assert not messages.same_phone("081234567890", "081234567891")
