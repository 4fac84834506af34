"""An agency's webhook receiver for Botram (docs/agencies.md, "Webhooks").

    pip install standardwebhooks
    BOTRAM_WEBHOOK_SECRET=whsec_... PORT=8080 python examples/agency/webhook_receiver.py

Each delivery is a structured-mode CloudEvent (`content-type: application/cloudevents+json`)
signed by Standard Webhooks: verify the signature (and the timestamp's age) before trusting
it, deduplicate on `webhook-id` (retries and replays repeat it), store, then answer 2xx. It
prints each new event as one JSON line. CI runs this file against the real system
(tests/notifier/integration/test_agency_examples.py).
"""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["BOTRAM_WEBHOOK_SECRET"])  # your subscription's secret
seen: set[str] = set()  # use your database in production
seen_lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = webhook.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except WebhookVerificationError:
            self.answer(400)  # forged, altered or too old: never process it
            return
        with seen_lock:
            new = event["id"] not in seen
            seen.add(event["id"])
        if new:  # at-least-once delivery: process each id once
            line = {"source": "webhook", "id": event["id"], "type": event["type"]}
            print(json.dumps(line), flush=True)
        self.answer(204)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None  # keep stdout for events


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Receiver)
    print(json.dumps({"ready": server.server_port}), flush=True)
    server.serve_forever()
