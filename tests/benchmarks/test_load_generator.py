"""The benchmarks refuse figures they cannot stand behind: no wrk, or a paced run that did
not reach the asked rate (issue 19: "34/s, p99 132,474 ms" was once printed as a result)."""

import itertools

import pytest

from benchmarks import wrk


def result(requests: int, seconds: float, asked: float | None) -> wrk.WrkResult:
    return wrk.WrkResult(
        requests=requests, errors=0, seconds=seconds, p50_ms=1, p99_ms=2, asked_rate=asked
    )


def test_a_paced_run_kept_up_only_when_it_answered_nine_tenths_of_the_asked_rate() -> None:
    assert result(2_700, 10, asked=300).kept_up
    assert not result(2_690, 10, asked=300).kept_up
    assert not result(340, 10, asked=300).kept_up  # the Python fallback's 34/s
    assert result(340, 10, asked=None).kept_up  # flat out: no rate was asked


def test_without_wrk_and_without_root_the_benchmark_stops_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wrk.shutil, "which", lambda name: None)
    monkeypatch.setattr(wrk.os, "geteuid", lambda: 1000)

    with pytest.raises(SystemExit) as stopped:
        wrk.ensure()

    assert "apt-get install wrk" in str(stopped.value.code)


def test_each_window_checks_new_citizens_in(monkeypatch: pytest.MonkeyPatch) -> None:
    offsets: list[int] = []

    def fake_check_ins(*args: object, offset: int, **kwargs: object) -> wrk.WrkResult:
        offsets.append(offset)
        return result(3_000, 10, asked=300)

    monkeypatch.setattr(wrk, "check_ins", fake_check_ins)

    windows = wrk.paced_windows(
        "http://x", "/p", ["s"], rate=300, seconds=60, window=10, offset=10**6
    )

    assert len(windows) == 6
    spacing = {b - a for a, b in itertools.pairwise(offsets)}
    assert min(spacing) >= 300 * 10 * 2  # room for a window that overshoots its rate
