"""The simulator's tokens: a staff token for the organiser's requests and one per agency's desk.

Against the embedded default they are minted from `./var/auth/` (as `botram token` does);
against a system with its own identity provider, pass the organiser's token in
`BOTRAM_TOKEN` and each desk's in `BOTRAM_DESK_TOKEN_<AGENCY>` (agency slug upper-cased,
dashes as underscores).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from botram_cli.tokens import mint_token
from botram_runtime.actors import Role

STAFF_ROLES = [Role.OPERATOR, Role.FRONT_DESK, Role.VIEWER]
TTL_SECONDS = 12 * 3600


@dataclass
class Credentials:
    """Bearer headers for the simulated day's actors."""

    auth_dir: Path
    _desks: dict[str, dict[str, str]] = field(default_factory=dict)

    def staff(self) -> dict[str, str]:
        token = os.environ.get("BOTRAM_TOKEN") or mint_token(
            STAFF_ROLES, ttl_seconds=TTL_SECONDS, subject="simulator", directory=self.auth_dir
        )
        return {"Authorization": f"Bearer {token}"}

    def desk(self, agency: str) -> dict[str, str]:
        if agency not in self._desks:
            variable = f"BOTRAM_DESK_TOKEN_{agency.upper().replace('-', '_')}"
            token = os.environ.get(variable) or mint_token(
                [Role.DESK],
                agency=agency,
                ttl_seconds=TTL_SECONDS,
                subject=f"simulator-desk-{agency}",
                directory=self.auth_dir,
            )
            self._desks[agency] = {"Authorization": f"Bearer {token}"}
        return self._desks[agency]
