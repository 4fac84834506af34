"""Tell Botram that a citizen's document is ready (docs/agencies.md, "Follow-ups").

    BOTRAM_REGISTRY_URL=https://registry.botram.example BOTRAM_TOKEN=<agency token> \
    python examples/agency/document_ready.py <ticket_id> "Kantor Disdukcapil Cikarang, loket 3" \
        [--until 2026-12-19] [--note "Bawa tanda terima"]

The ticket id comes from the `botram.service.completed.v1` event your webhook receiver
(`webhook_receiver.py`) or NATS consumer (`nats_consumer.py`) stored when your desk served
or referred the citizen; your back office runs this when the document is printed. Botram
texts the citizen once (when they gave a phone), shows it on their ticket's page and
publishes `botram.service.followed_up.v1` to your subscribers. Python's standard library
only. Exit status: 0 recorded, 1 refused (the reason printed), 2 bad arguments.
CI runs this file against the real registry (tests/registry/integration/test_follow_up_example.py).
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def record_follow_up(
    registry_url: str, token: str, ticket_id: str, place: str, until: str | None, note: str | None
) -> tuple[int, dict[str, object]]:
    """POST /v1/tickets/{id}/follow-ups: (HTTP status, the JSON answer or problem)."""
    body: dict[str, object] = {"kind": "document_ready", "place": place}
    if until:
        body["until"] = until  # YYYY-MM-DD, not in the past
    if note:
        body["note"] = note  # for the citizen: never personal data
    request = urllib.request.Request(
        f"{registry_url.rstrip('/')}/v1/tickets/{ticket_id}/follow-ups",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:  # problem+json (RFC 9457)
        return refused.code, json.loads(refused.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Tell Botram a citizen's document is ready.")
    parser.add_argument("ticket_id")
    parser.add_argument("place", help="Where to collect it, in Bahasa Indonesia")
    parser.add_argument("--until", help="Collect it by this day (YYYY-MM-DD)")
    parser.add_argument("--note", help="A short note for the citizen (no personal data)")
    args = parser.parse_args()
    status, answer = record_follow_up(
        os.environ["BOTRAM_REGISTRY_URL"],
        os.environ["BOTRAM_TOKEN"],
        args.ticket_id,
        args.place,
        args.until,
        args.note,
    )
    print(json.dumps({"status": status, **answer}), flush=True)
    # 201: recorded. 409 follow-up-exists: already told (once is enough); 409
    # ticket-not-finished: the desk has not served it; 403: another agency's ticket.
    return 0 if status == 201 else 1


if __name__ == "__main__":
    sys.exit(main())
