"""The websocket protocol: every message type in one place.

`static/js/protocol.js` mirrors these names; `tests/test_protocol.py` keeps the two in step.
Messages are JSON objects with a `type`. Messages that describe a change carry the event's `seq`.
"""

from __future__ import annotations

import json
from typing import Any, Final

# Server to client.
SNAPSHOT: Final = "snapshot"  # the whole visible state; sent when the client has nothing to resume from
SYNCED: Final = "synced"  # the replay after a resume is complete; `seq` is the head the client now has
QUESTION: Final = "question"  # a question was created or changed; carries the whole question
VOTES: Final = "votes"  # a question's vote count changed
ON_AIR: Final = "on_air"  # the question on air changed (or `question_id` is null: nothing on air)
EVENT: Final = "event"  # the event's own fields changed
PONG: Final = "pong"
ERROR: Final = "error"

# Client to server.
PING: Final = "ping"

SERVER_TYPES: Final = (SNAPSHOT, SYNCED, QUESTION, VOTES, ON_AIR, EVENT, PONG, ERROR)
CLIENT_TYPES: Final = (PING,)
CHANGE_TYPES: Final = (QUESTION, VOTES, ON_AIR, EVENT)

# Close codes (4000-4999 are ours to define).
CLOSE_GOING_AWAY: Final = 1001
CLOSE_UNKNOWN_EVENT: Final = 4404
CLOSE_TOO_SLOW: Final = 4008  # the client fell too far behind; it reconnects and resumes

MAX_CLIENT_MESSAGE_BYTES: Final = 4096

AUDIENCE_PUBLIC: Final = "public"
AUDIENCE_STAFF: Final = "staff"


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
