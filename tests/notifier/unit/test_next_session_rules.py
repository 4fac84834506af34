"""Where a citizen whose session was cancelled is pointed to: pure rules."""

from datetime import date, time

from botram_notifier.domain.messages import session_cancelled
from botram_notifier.domain.next_session import Candidate, next_session

DAY = date(2026, 12, 5)  # a Saturday: the flooded session at Setu
KK, KTP = "dukcapil-kk", "dukcapil-ktp-cetak"


def session(
    name: str,
    day: date,
    kecamatan: str = "setu",
    services: tuple[str, ...] = (KK, KTP),
    status: str = "scheduled",
    start: time = time(8),
    desa: str | None = None,
) -> Candidate:
    return Candidate(name, kecamatan, desa, day, start, f"Kantor {name}", services, status)


def test_a_session_in_the_same_kecamatan_within_two_weeks_wins_over_an_earlier_one_elsewhere() -> (
    None
):
    elsewhere = session("sukatani", date(2026, 12, 8), kecamatan="sukatani")
    nearby = session("burangkeng", date(2026, 12, 10), desa="burangkeng")

    assert next_session([elsewhere, nearby], "setu", DAY, [KK]) == nearby


def test_without_one_nearby_the_earliest_anywhere_same_kecamatan_first_on_a_day() -> None:
    far_ahead = session("setu-later", date(2027, 1, 30))
    other = session("sukatani", date(2026, 12, 12), kecamatan="sukatani")
    other_early = session("cibitung", date(2026, 12, 12), kecamatan="cibitung", start=time(7))

    assert next_session([far_ahead, other, other_early], "setu", DAY, [KK]) == other_early
    same_day = session("setu-12", date(2026, 12, 12), start=time(9))
    assert next_session([other, other_early, same_day], "babelan", DAY, [KK]) == other_early


def test_only_sessions_still_ahead_that_offer_the_service_count() -> None:
    past = session("past", date(2026, 12, 1))
    same_day = session("same-day", DAY)
    cancelled = session("cancelled", date(2026, 12, 8), status="cancelled")
    closed = session("closed", date(2026, 12, 8), status="closed")
    no_kk = session("no-kk", date(2026, 12, 9), services=(KTP,))
    opened = session("opened", date(2026, 12, 10), status="opened")

    candidates = [past, same_day, cancelled, closed, no_kk, opened]
    assert next_session(candidates, "setu", DAY, [KK]) == opened
    assert next_session([past, same_day, closed], "setu", DAY, [KK]) is None


def test_a_session_offering_every_service_wins_and_else_any_of_them() -> None:
    only_kk = session("only-kk", date(2026, 12, 8), services=(KK,))
    both = session("both", date(2026, 12, 10))

    assert next_session([only_kk, both], "setu", DAY, [KK, KTP]) == both
    assert next_session([only_kk], "setu", DAY, [KK, KTP]) == only_kk


def test_the_cancellation_names_the_reason_and_the_next_session() -> None:
    going = session("burangkeng", date(2026, 12, 10), desa="burangkeng", start=time(8, 30))

    text = session_cancelled("setu", DAY, "banjir", going)

    assert "Botram di Setu pada 5 Desember 2026 dibatalkan. Alasan: banjir." in text
    assert text.endswith(
        "Botram terdekat berikutnya: Burangkeng, 10 Desember 2026 pukul 08.30 di Kantor burangkeng."
    )
