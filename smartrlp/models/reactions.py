"""Reactions: what a viewer sends (over HTTP or the websocket) and what the API answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smartrlp.models.base import Body, Reply
from smartrlp.realtime.protocol import REACTION_KINDS

# The kinds are stated in the protocol (static/js/lib/protocol.js mirrors them); the model takes them from there.
ReactionKind = Literal[REACTION_KINDS]  # type: ignore[valid-type]


class React(Body):
    kind: ReactionKind


class ReactionTaken(Reply):
    """Taken"""

    counted: bool = Field(description="False when this device already counted for this kind within the window.")
