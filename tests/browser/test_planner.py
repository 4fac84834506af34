"""The planner's calendar (`/planner` on the scheduler) in a real browser."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpers import FakeClock

# Monday 1 June 2026, 08:00 in Bekasi: the scheduler's today.
TODAY = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def scheduler(serve: Callable[..., Any]) -> Any:
    return serve("scheduler", auto_lifecycle=False, clock=FakeClock(TODAY))


def create_session(scheduler: Any, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{scheduler.url}/v1/sessions", json=body, headers=scheduler.headers("planner"), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def session(scheduler: Any, session_id: str) -> dict[str, Any]:
    response = httpx.get(f"{scheduler.url}/v1/sessions/{session_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def sessions_in_june(scheduler: Any) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{scheduler.url}/v1/sessions",
        params={"from": "2026-06-01", "to": "2026-06-30", "limit": 1000},
        timeout=10,
    )
    return response.json()["items"]  # type: ignore[no-any-return]


def test_without_signing_in_the_planner_shows_the_sign_in_prompt_and_no_sessions(
    scheduler: Any, page: Page, assert_accessible: Callable[[Page], None]
) -> None:
    create_session(scheduler, level="kecamatan", kecamatan="Sukatani", date="2026-06-06")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{scheduler.url}/planner")

    expect(page.get_by_role("heading", name="Silakan masuk")).to_be_visible()
    expect(page.get_by_text("Halaman ini untuk perencana atau operator.")).to_be_visible()
    expect(page.locator("#page-content")).to_be_hidden()
    assert page.locator("button[data-session]").count() == 0
    assert [url for url in requested if "/planner/month" in url or "/v1/" in url] == []
    assert_accessible(page)


def test_a_sign_in_link_signs_in_and_leaves_no_token_in_the_address_bar(
    scheduler: Any, page: Page
) -> None:
    link = scheduler.link("/planner", "planner")

    page.goto(link)

    expect(page.locator("[data-actor-roles]")).to_have_text("perencana")
    expect(page.locator("[data-actor-expiry]")).to_contain_text("Berlaku sampai")
    assert page.url == f"{scheduler.url}/planner"
    assert "access_token" not in page.evaluate("() => window.location.href + history.state")
    assert page.evaluate("() => sessionStorage.getItem('botram.token')") == link.split("=", 1)[1]
    expect(page.locator("#page-content")).to_be_visible()

    page.reload()  # the tab keeps its sign-in
    expect(page.locator("[data-actor-roles]")).to_have_text("perencana")

    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", name="Silakan masuk")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('botram.token')") is None


def test_a_token_without_a_planning_role_is_told_what_the_page_needs(
    scheduler: Any, page: Page
) -> None:
    page.goto(scheduler.link("/planner", "desk", agency="dukcapil"))

    expect(page.locator("#signin-message")).to_have_text(
        "Anda masuk sebagai petugas loket. Halaman ini memerlukan peran perencana atau operator."
    )
    expect(page.locator("#page-content")).to_be_hidden()


def test_the_month_view_shows_the_sessions_by_level_and_place(
    scheduler: Any, page: Page, assert_accessible: Callable[[Page], None]
) -> None:
    create_session(scheduler, level="kecamatan", kecamatan="Sukatani", date="2026-06-06")
    create_session(
        scheduler, level="desa", kecamatan="Cikarang Selatan", desa="Ciantra", date="2026-06-09"
    )
    create_session(scheduler, level="kecamatan", kecamatan="Setu", date="2026-07-04")

    page.goto(scheduler.link("/planner", "planner"))

    month = page.locator("#month table")
    expect(month.locator("caption")).to_have_text("Juni 2026: 2 sesi")
    expect(
        month.get_by_role("button", name=re.compile("6 Juni: Kecamatan Sukatani"))
    ).to_be_visible()
    expect(
        month.get_by_role("button", name=re.compile("9 Juni: Desa Ciantra terjadwal"))
    ).to_be_visible()
    expect(month).not_to_contain_text("Setu")

    page.get_by_role("button", name="Bulan berikutnya ›").click()
    expect(month.locator("caption")).to_have_text("Juli 2026: 1 sesi")
    expect(month.get_by_role("button", name=re.compile("Kecamatan Setu"))).to_be_visible()

    page.get_by_role("button", name="‹ Bulan sebelumnya").click()
    page.get_by_label("Tingkat").select_option("desa")
    expect(month.locator("caption")).to_have_text("Juni 2026: 1 sesi")
    expect(month).not_to_contain_text("Sukatani")

    assert_accessible(page)


def test_a_generation_is_previewed_then_confirmed(
    scheduler: Any,
    page: Page,
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(scheduler.link("/planner", "planner"))
    expect(page.locator("#month table caption")).to_have_text("Juni 2026: 0 sesi")

    page.get_by_label("Dari tanggal").fill("2026-06-01")
    page.get_by_label("Sampai tanggal").fill("2026-06-14")
    page.get_by_role("button", name="Pratinjau").click()

    caption = page.locator("#preview-caption")
    expect(caption).to_contain_text("sesi baru")
    planned = int(re.search(r"(\d+) sesi baru", caption.inner_text())[1])  # type: ignore[index]
    assert planned >= 4  # two Saturdays and the Tuesdays and Thursdays in between, less holidays
    expect(page.locator("#preview-rows")).to_contain_text("akan dibuat")
    assert sessions_in_june(scheduler) == []  # a preview stores nothing
    assert_accessible(page)

    page.get_by_role("button", name="Konfirmasi dan simpan jadwal").click()

    expect(page.locator("#generate-message")).to_have_text(f"{planned} sesi dibuat, 0 dipindahkan.")
    assert len(sessions_in_june(scheduler)) == planned
    expect(page.locator("#month table caption")).to_have_text(f"Juni 2026: {planned} sesi")
    screenshot(page, "planner")


def test_a_session_is_cancelled_with_its_reason(
    scheduler: Any,
    page: Page,
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[..., Path],
) -> None:
    created = create_session(scheduler, level="kecamatan", kecamatan="Sukatani", date="2026-06-06")
    page.goto(scheduler.link("/planner", "planner"))

    page.get_by_role("button", name=re.compile("Kecamatan Sukatani")).click()
    dialog = page.get_by_role("dialog", name="Botram Kecamatan Sukatani")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-fact="status"]')).to_have_text("terjadwal")
    assert_accessible(page)
    screenshot(page, "planner-session", full_page=False)

    dialog.get_by_role("button", name="Batalkan", exact=True).click()  # no reason yet
    expect(dialog.locator("#cancel-reason-error")).to_have_text("Alasan wajib diisi.")
    expect(dialog.locator("#cancel-reason")).to_be_focused()
    assert session(scheduler, created["id"])["status"] == "scheduled"

    dialog.locator("#cancel-reason").fill("Banjir di Sukatani")
    dialog.get_by_role("button", name="Batalkan", exact=True).click()

    expect(page.locator("#planner-status")).to_have_text("Sesi dibatalkan.")
    expect(dialog).to_be_hidden()
    cancelled = session(scheduler, created["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["status_reason"] == "Banjir di Sukatani"
    expect(page.get_by_role("button", name=re.compile("Sukatani dibatalkan"))).to_be_visible()


def test_a_session_is_moved_and_opening_needs_an_operator(scheduler: Any, page: Page) -> None:
    created = create_session(scheduler, level="kecamatan", kecamatan="Sukatani", date="2026-06-06")
    page.goto(scheduler.link("/planner", "planner"))

    page.get_by_role("button", name=re.compile("Kecamatan Sukatani")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Buka sesi").click()
    expect(dialog.locator("#session-message")).to_have_text(
        "Membuka dan menutup sesi hanya dapat dilakukan oleh operator."
    )

    dialog.get_by_label("Tanggal baru").fill("2026-06-13")
    dialog.locator("#move-reason").fill("Aula dipakai")
    dialog.get_by_role("button", name="Pindahkan", exact=True).click()

    expect(page.locator("#planner-status")).to_have_text("Sesi dipindahkan ke 2026-06-13.")
    moved = session(scheduler, created["id"])
    assert moved["date"] == "2026-06-13" and moved["status_reason"] == "Aula dipakai"

    page.goto(scheduler.link("/planner", "operator"))
    page.get_by_role("button", name=re.compile("13 Juni: Kecamatan Sukatani")).click()
    page.get_by_role("dialog").get_by_role("button", name="Buka sesi").click()

    expect(page.locator("#planner-status")).to_have_text("Sesi dibuka.")
    assert session(scheduler, created["id"])["status"] == "opened"


def test_the_calendar_works_with_the_keyboard_alone(scheduler: Any, page: Page) -> None:
    create_session(scheduler, level="kecamatan", kecamatan="Sukatani", date="2026-06-06")
    page.goto(scheduler.link("/planner", "operator"))
    session_button = page.get_by_role("button", name=re.compile("Kecamatan Sukatani"))
    expect(session_button).to_be_visible()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Langsung ke isi utama")).to_be_focused()
    for _ in range(40):  # through the header, the filters and the days before the 6th
        page.keyboard.press("Tab")
        if session_button.evaluate("element => element === document.activeElement"):
            break
    expect(session_button).to_be_focused()

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Botram Kecamatan Sukatani")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("element => element.contains(document.activeElement)")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(session_button).to_be_focused()


KK = re.compile(r"^Kartu Keluarga \(KK\)")


def open_dialog(page: Page) -> Any:
    """The dialog of the Sukatani session of `edited_session`, opened from the calendar."""
    page.get_by_role("button", name=re.compile("Kecamatan Sukatani")).click()
    dialog = page.get_by_role("dialog", name="Botram Kecamatan Sukatani")
    expect(dialog).to_be_visible()
    return dialog


def edited_session(scheduler: Any, page: Page, services: list[str]) -> tuple[Any, Any]:
    """A scheduled Sukatani session offering `services`, its dialog open on the planner."""
    created = create_session(
        scheduler,
        level="kecamatan",
        kecamatan="Sukatani",
        date="2026-06-06",
        venue="Kantor Kecamatan Sukatani",
        services=services,
    )
    page.goto(scheduler.link("/planner", "planner"))
    return created, open_dialog(page)


def save(form: Any) -> None:
    form.get_by_role("button", name="Simpan perubahan").click()


def test_a_scheduled_sessions_quota_and_venue_are_changed(
    scheduler: Any,
    page: Page,
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[..., Path],
) -> None:
    patches: list[Any] = []
    page.on("request", lambda r: patches.append(r.post_data_json) if r.method == "PATCH" else None)
    created, dialog = edited_session(scheduler, page, ["dukcapil-kk", "dukcapil-akta-kelahiran"])

    edit = dialog.locator("#edit-form")
    expect(edit.get_by_role("heading", name="Ubah sesi")).to_be_visible()
    expect(edit.get_by_label("Tempat")).to_have_value("Kantor Kecamatan Sukatani")
    expect(edit.get_by_role("checkbox", name=KK)).to_be_checked()
    expect(edit.get_by_role("checkbox", name=re.compile("^Akta Kematian"))).not_to_be_checked()
    expect(edit.get_by_label("Kuota Akta Kematian", exact=True)).to_be_disabled()
    assert_accessible(page)
    edit.get_by_role("button", name="Simpan perubahan").scroll_into_view_if_needed()
    screenshot(page, "planner-edit", full_page=False)

    edit.get_by_label("Kuota Kartu Keluarga (KK)", exact=True).fill("")
    save(edit)  # an offered service needs a quota
    quota = edit.get_by_label("Kuota Kartu Keluarga (KK)", exact=True)
    expect(quota).to_be_focused()
    expect(quota).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#edit-form .field-error:visible")).to_have_text("Kuota wajib diisi.")
    assert patches == []

    for name in (KK, re.compile("^Akta Kelahiran")):
        edit.get_by_role("checkbox", name=name).uncheck()
    save(edit)
    expect(dialog.locator("#edit-services-error")).to_have_text(
        "Pilih paling sedikit satu layanan."
    )
    expect(edit.get_by_role("checkbox").first).to_be_focused()
    assert patches == []

    for name in (KK, re.compile("^Akta Kelahiran")):
        edit.get_by_role("checkbox", name=name).check()
    quota.fill("150")
    edit.get_by_label("Tempat").fill("Aula Desa Sukatani")
    save(edit)

    expect(page.locator("#planner-status")).to_have_text("Sesi diubah.")
    expect(dialog).to_be_hidden()
    assert patches == [{"venue": "Aula Desa Sukatani", "quotas": {"dukcapil-kk": 150}}]
    changed = session(scheduler, created["id"])
    assert changed["venue"] == "Aula Desa Sukatani"
    assert changed["quotas"] == created["quotas"] | {"dukcapil-kk": 150}
    assert changed["services"] == created["services"]


def test_a_desa_session_is_offered_only_the_services_a_desa_may_have(
    scheduler: Any, page: Page
) -> None:
    create_session(
        scheduler, level="desa", kecamatan="Cikarang Selatan", desa="Ciantra", date="2026-06-09"
    )
    page.goto(scheduler.link("/planner", "planner"))
    page.get_by_role("button", name=re.compile("Desa Ciantra")).click()
    edit = page.get_by_role("dialog").locator("#edit-form")

    expect(edit.get_by_role("checkbox", name=KK)).to_be_checked()
    expect(edit.get_by_role("checkbox", name=re.compile("^Akta Perkawinan"))).to_be_hidden()


def test_an_opened_session_offers_only_more_services_and_higher_quotas(
    scheduler: Any, page: Page, assert_accessible: Callable[[Page], None]
) -> None:
    created, dialog = edited_session(scheduler, page, ["dukcapil-kk"])
    before = created["quotas"]["dukcapil-kk"]
    opened = httpx.post(
        f"{scheduler.url}/v1/sessions/{created['id']}/open",
        headers=scheduler.headers("operator"),
        timeout=10,
    )
    assert opened.status_code == 200, opened.text
    dialog.locator("#edit-form").get_by_label("Tempat").fill("Aula Desa Sukatani")
    # The page still shows it scheduled: the scheduler refuses.
    save(dialog)
    expect(dialog.locator("#session-message")).to_have_text(
        "Tempat dan jam sesi yang sudah dibuka tidak dapat diubah. Pindahkan atau batalkan sesi."
    )

    page.reload()
    dialog = open_dialog(page)
    edit = dialog.locator("#edit-form")
    expect(dialog.locator('[data-fact="status"]')).to_have_text("dibuka")
    expect(edit.get_by_text("Sesi sudah dibuka: hanya dapat menambah layanan")).to_be_visible()
    expect(edit.get_by_label("Tempat")).to_be_hidden()
    expect(edit.get_by_label("Jam mulai")).to_be_hidden()
    expect(edit.get_by_role("checkbox", name=KK)).to_be_disabled()
    assert_accessible(page)

    quota = edit.get_by_label("Kuota Kartu Keluarga (KK)", exact=True)
    quota.fill(str(before - 1))
    save(edit)
    expect(quota).to_be_focused()
    expect(dialog.locator("#edit-form .field-error:visible")).to_have_text(
        f"Kuota hanya dapat dinaikkan: paling sedikit {before}."
    )

    quota.fill(str(before + 20))
    edit.get_by_role("checkbox", name=re.compile("^Akta Kelahiran")).check()
    edit.get_by_label("Kuota Akta Kelahiran", exact=True).fill("40")
    save(edit)

    expect(page.locator("#planner-status")).to_have_text("Sesi diubah.")
    changed = session(scheduler, created["id"])
    assert changed["status"] == "opened"
    assert changed["services"] == ["dukcapil-kk", "dukcapil-akta-kelahiran"]
    assert changed["quotas"] == {"dukcapil-kk": before + 20, "dukcapil-akta-kelahiran": 40}
    assert changed["venue"] == "Kantor Kecamatan Sukatani"
