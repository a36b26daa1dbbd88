"""The websocket protocol: every message type in one place.

`static/js/protocol.js` mirrors these names; `tests/test_protocol.py` keeps the two in step.
Messages are JSON objects with a `type`. Messages that describe a change carry the event's `seq` and `at`, the
server's time of the change in milliseconds since the epoch (as do `poll_results`); `pong` carries the server's
time as `now`, so that a page knows how far its own clock is off.
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
POLL: Final = "poll"  # a poll was created or changed; carries the whole poll
POLL_DELETED: Final = "poll_deleted"
SCREEN: Final = "screen"  # what the presenter screen and the overlay show
# Staff only: why questions were held, blocked devices, reports, the event's filter words.
MODERATION_NOTES: Final = "moderation_notes"
# Not logged changes (no `seq`): current state, coalesced, sent to whoever may see it.
POLL_RESULTS: Final = "poll_results"
# Staff only: an entry of the activity list (a moderation action, or a bulk one) as it is now (added or undone).
MODERATION_ACTION: Final = "moderation_action"
REACTIONS: Final = "reactions"
PONG: Final = "pong"  # the answer to `ping`: `seq` the client's position, `now` the server's time (ms)
ERROR: Final = "error"
# The answer to a viewer's action (below), after its transaction committed: `ref` as sent, and the `status` and
# JSON `body` the same request would have got over HTTP (errors included).
REPLY: Final = "reply"

# Client to server.
PING: Final = "ping"
REACT: Final = "react"
# A viewer's actions, each the HTTP endpoint declared with `live=` of that name (docs/api.md): the body's fields,
# the path's `question_id` or `poll_id`, and a `ref` of the client's choosing that its `reply` carries back.
ASK: Final = "ask"  # POST /api/events/{slug}/questions
UPVOTE: Final = "upvote"  # POST …/questions/{question_id}/votes
UNVOTE: Final = "unvote"  # DELETE …/questions/{question_id}/votes
BALLOT: Final = "ballot"  # POST …/polls/{poll_id}/votes
REPORT: Final = "report"  # POST …/questions/{question_id}/reports
ACTION_TYPES: Final = (ASK, UPVOTE, UNVOTE, BALLOT, REPORT)
MAX_REF_LENGTH: Final = 64

SERVER_TYPES: Final = (
    SNAPSHOT,
    SYNCED,
    QUESTION,
    VOTES,
    ON_AIR,
    EVENT,
    POLL,
    POLL_DELETED,
    SCREEN,
    MODERATION_NOTES,
    MODERATION_ACTION,
    POLL_RESULTS,
    REACTIONS,
    PONG,
    ERROR,
    REPLY,
)
CLIENT_TYPES: Final = (PING, REACT, *ACTION_TYPES)
CHANGE_TYPES: Final = (QUESTION, VOTES, ON_AIR, EVENT, POLL, POLL_DELETED, SCREEN, MODERATION_NOTES)

# Close codes (4000-4999 are ours to define).
CLOSE_GOING_AWAY: Final = 1001
CLOSE_INVALID_DATA: Final = 1007  # a text frame that is not UTF-8 (closed at once, nothing logged)
CLOSE_UNKNOWN_EVENT: Final = 4404
CLOSE_TOO_SLOW: Final = 4008  # the client fell too far behind; it reconnects and resumes
CLOSE_RATE_LIMITED: Final = 4029  # too many connections from the client's address, or far too many messages
CLOSE_TOO_LARGE: Final = 1009  # a frame larger than MAX_FRAME_BYTES (closed by the server before it is read)

MAX_CLIENT_MESSAGE_BYTES: Final = 4096
# The largest frame the server reads at all (uvicorn's ws_max_size); frames between the two get an `error`.
MAX_FRAME_BYTES: Final = 16 * 1024

AUDIENCE_PUBLIC: Final = "public"
AUDIENCE_STAFF: Final = "staff"
AUDIENCE_STUDIO: Final = "studio"  # moderators and the studio views (presenter screen, overlay)

REACTION_KINDS: Final = ("applause", "thumbs_up", "heart", "thinking")


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
