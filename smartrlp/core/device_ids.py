"""Device ids: a random id per browser, signed for its cookie, so a device cannot pick another's id.

The id counts one vote per device and lets askers see their own questions; it names no person."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer


@dataclass(frozen=True, slots=True)
class DeviceSigner:
    signer: Signer

    def issue(self) -> tuple[str, str]:
        device = secrets.token_urlsafe(16)
        return device, self.signer.sign(device).decode()

    def verify(self, cookie_value: str) -> str | None:
        try:
            return self.signer.unsign(cookie_value).decode()
        except BadSignature:
            return None
