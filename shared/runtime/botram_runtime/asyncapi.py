"""The AsyncAPI document FastStream generates, made exact for integrators.

- every `{token}` of a channel address is declared in the channel's `parameters` (AsyncAPI 3
  requires it), with what it holds;
- no message declares a `correlationId`: Botram's events carry no correlation header (the
  CloudEvent `id`, also the `Nats-Msg-Id`, identifies each one).

Channel addresses are the subjects the code publishes (`subject_template`), checked by
tests/contracts/unit/test_asyncapi.py; a consumer's channel is the filter it subscribes with.
"""

import re
from typing import Any

from botram_contracts.vocabulary import Level

PARAMETER = re.compile(r"\{([A-Za-z0-9_-]+)\}")
PARAMETERS: dict[str, dict[str, Any]] = {
    "level": {"description": "The session's level", "enum": [level.value for level in Level]},
    "kecamatan": {"description": "The kecamatan's slug, e.g. `sukatani`"},
    "agency": {"description": "The agency's slug (`GET /v1/agencies` on the notifier)"},
    "service": {
        "description": "The service's code (`GET /v1/agencies/{agency}/services`)",
    },
    "session_id": {"description": "The session's id"},
}


def exact_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its channels' parameters declared and no dangling correlationId."""
    for channel in document.get("channels", {}).values():
        names = PARAMETER.findall(channel.get("address") or "")
        if names:
            channel["parameters"] = {
                name: PARAMETERS.get(name, {"description": name}) for name in names
            }
    for message in document.get("components", {}).get("messages", {}).values():
        message.pop("correlationId", None)
    return document
