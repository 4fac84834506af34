"""A simulated session where served citizens answer the satisfaction survey (issue 18):
reporting's IKM equals a hand computation from the answers with the PermenPAN-RB 14/2017
formula, and neither a tap on the bus nor a scan of reporting's database finds a citizen's
pseudonym, NIK or ticket with any answer."""

import asyncio
import json
import re
import sqlite3
from collections import defaultdict
from typing import Any

import httpx
import nats
import pytest

from helpers import System, cli

pytestmark = pytest.mark.e2e
NIK_SHAPE = re.compile(r"(?<!\d)\d{16}(?!\d)")


def hand_ikm(answers: list[list[int]]) -> float:
    """PermenPAN-RB 14/2017: each element's mean (NRR), Σ NRR × 1/9, × 25."""
    means = [sum(answer[i] for answer in answers) / len(answers) for i in range(9)]
    return round(sum(mean * (1 / 9) for mean in means) * 25, 2)


async def test_reportings_ikm_equals_the_hand_computation_and_no_answer_names_anyone(
    system: System,
) -> None:
    tapped: list[tuple[str, dict[str, Any]]] = []
    nc = await nats.connect(
        system.nats_url, nkeys_seed_str=system.nats_seed("ops"), allow_reconnect=False
    )

    async def tap(message: Any) -> None:
        tapped.append((message.subject, json.loads(message.data)))

    subscription = await nc.subscribe("botram.>", cb=tap)
    urls = [f"--{name}-url={system.urls[name]}" for name in ("scheduler", "registry", "reporting")]
    simulate = cli(
        "simulate",
        *("--citizens", "30", "--seed", "7", "--desks", "1", "--json", *urls),
        f"--var-dir={system.var_dir}",
    )
    process = await asyncio.create_subprocess_exec(
        *simulate, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    await nc.flush()
    await subscription.unsubscribe()
    await nc.close()

    assert process.returncode == 0, (out + err).decode()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["agrees"] is True, summary
    session_id = summary["session_id"]

    answers = [data for subject, data in tapped if subject.startswith("botram.survey.")]
    assert answers and len(answers) == summary["survey"]["responses"]
    assert all(event["type"] == "botram.survey.answered.v1" for event in answers)

    # Reporting's IKM equals the hand computation, per agency and service and overall.
    by_service: dict[tuple[str, str], list[list[int]]] = defaultdict(list)
    for event in answers:
        data = event["data"]
        assert data["session_id"] == session_id
        scores = [data[f"u{i}"] for i in range(1, 10)]
        by_service[(data["agency"], data["service"])].append(scores)
    async with httpx.AsyncClient(headers=system.headers("viewer")) as client:
        report = (await client.get(f"{system.urls['reporting']}/v1/reports/ikm")).json()
        csv = (await client.get(f"{system.urls['reporting']}/v1/reports/ikm?format=csv")).text
        metrics = (await client.get(f"{system.urls['reporting']}/metrics")).text
    everyone = [scores for group in by_service.values() for scores in group]
    assert report["overall"]["responses"] == len(everyone)
    assert report["overall"]["ikm"] == hand_ikm(everyone) == summary["survey"]["ikm"]
    got = {(g["key"]["agency"], g["key"]["service"]): g for g in report["services"]}
    assert set(got) == set(by_service)
    for key, scores in by_service.items():
        assert got[key]["responses"] == len(scores)
        assert got[key]["ikm"] == hand_ikm(scores), key
        assert got[key]["band"] in {"A", "B", "C", "D"}
    assert csv.splitlines()[0].startswith("breakdown,agency,service,")
    agency, service = next(iter(by_service))
    assert re.search(
        rf'botram_survey_responses_total{{agency="{agency}",service="{service}"}} '
        rf"{len(by_service[(agency, service)])}\.0",
        metrics,
    )
    assert f'botram_ikm{{agency="{agency}",service="{service}"}}' in metrics

    # Who is who, as the other events name them: pseudonyms, ticket and check-in ids.
    secrets: set[str] = set()
    for _, event in tapped:
        data = event["data"]
        for name in ("citizen", "ticket_id", "check_in_id"):
            if isinstance(data.get(name), str):
                secrets.add(data[name])
        for ticket in data.get("tickets") or ():
            secrets.add(ticket["ticket_id"])
    assert any(len(s) == 64 for s in secrets)  # the check-ins' pseudonyms were seen
    for event in answers:
        text = json.dumps(event)
        assert not NIK_SHAPE.search(text), text
        assert [s for s in secrets if s in text] == [], text
        assert event["data"]["survey_id"] not in secrets

    # Reporting's database: the answers' rows hold no pseudonym, NIK or ticket either.
    database = system.var_dir / "reporting.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT * FROM report_survey_answers").fetchall()
        columns = [c[1] for c in connection.execute("PRAGMA table_info(report_survey_answers)")]
    assert len(rows) == len(everyone)
    assert not {"citizen", "ticket_id", "check_in_id", "nik"} & set(columns)
    for row in rows:
        for value in row:
            assert str(value) not in secrets and not NIK_SHAPE.search(str(value)), row
