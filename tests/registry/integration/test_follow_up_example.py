"""The follow-up example docs/agencies.md ships (examples/agency/document_ready.py), run as an
agency runs it: a separate process with the agency's token, against the registry over HTTP."""

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from helpers import LiveService, eventually, session_issuer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agency" / "document_ready.py"
PLACE = "Kantor Disdukcapil Cikarang, loket 3"


async def run_example(registry: LiveService, *args: str) -> tuple[int, dict[str, Any]]:
    token = session_issuer().token("agency", agency="dukcapil", subject="dukcapil-backoffice")
    env = {**os.environ, "BOTRAM_REGISTRY_URL": registry.url, "BOTRAM_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    answer: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return int(process.returncode or 0), answer


async def test_the_agencys_back_office_marks_a_document_ready_with_the_shipped_example(
    serve: Callable[..., LiveService],
    announce_session: Callable[..., Awaitable[None]],
) -> None:
    registry = serve("registry", outbox_poll_seconds=0.1)
    await announce_session()
    staff = session_issuer().headers("front-desk", "desk", "operator", agency="dukcapil")
    async with httpx.AsyncClient(base_url=registry.url, headers=staff, timeout=10) as client:

        async def opened() -> bool:
            queue = await client.get("/v1/sessions/s-1/queue")
            return queue.status_code == 200 and queue.json()["status"] == "opened"

        await eventually(opened)
        body = {"nik": "3216050101900001", "name": "Siti Aminah", "services": ["dukcapil-kk"]}
        ticket = (await client.post("/v1/sessions/s-1/check-ins", json=body)).json()["tickets"][0]
        waiting, _ = await run_example(registry, ticket["ticket_id"], PLACE)
        await client.post("/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": "1"})
        await client.post(f"/v1/tickets/{ticket['ticket_id']}/complete", json={"outcome": "served"})

        status, answer = await run_example(
            registry, ticket["ticket_id"], PLACE, "--note", "Bawa tanda terima"
        )
        again, repeated = await run_example(registry, ticket["ticket_id"], PLACE)
        page = await client.get("/t/" + ticket["status_url"].rsplit("/", 1)[1])

    assert waiting == 1  # not served yet: refused, nothing recorded
    assert (status, answer["status"], answer["place"]) == (0, 201, PLACE)
    assert answer["citizen_notified"] is False  # no phone was given
    assert (again, repeated["status"]) == (1, 409)
    assert repeated["type"].endswith("/follow-up-exists")
    assert PLACE in page.text and "Bawa tanda terima" in page.text
