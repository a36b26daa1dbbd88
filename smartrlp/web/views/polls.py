"""The poll API: moderators prepare and run polls, viewers read them and vote. Thin: the rules are in
smartrlp/services/polls.py and smartrlp/services/ballots.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request

from smartrlp.models.polls import BallotReceipt, CastBallot, CreatePoll, Poll, PollList, UpdatePoll
from smartrlp.services import ballots, polls
from smartrlp.web.auth import moderator_for
from smartrlp.web.endpoint import Endpoints
from smartrlp.web.http import app_state, client_address, device_id, path_id, require_device

api = Endpoints("polls")

POLLS = "/api/events/{slug}/polls"
POLL = "/api/events/{slug}/polls/{poll_id}"
VOTES = "/api/events/{slug}/polls/{poll_id}/votes"


def _poll_id(request: Request) -> int:
    return path_id(request, "poll_id", "poll")


@api.get(POLLS, response=PollList)
async def list_polls(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """The polls of an event (drafts only for moderators)

    Viewers get `my_ballot` in each poll, and `results` where they may see them; moderators always get `results`.
    """
    staff = await moderator_for(request, event["id"]) is not None
    return await polls.list_polls(app_state(request).ctx, event["id"], staff=staff, device=device_id(request))


@api.post(POLLS, body=CreatePoll, response=Poll, status=201, moderator=True)
async def create_poll(request: Request, event: sqlite3.Row, body: CreatePoll) -> dict[str, Any]:
    """Prepare a poll (as a draft, placed last)

    `options` only for choice polls, `max_choices` only for `multiple` (2 to the number of options), `scale_max`
    only for `rating`.
    """
    state = app_state(request)
    return await polls.create_poll(state.ctx, state.results, event["id"], body)


@api.get(POLL, response=Poll)
async def get_poll(request: Request, event: sqlite3.Row) -> dict[str, Any]:
    """One poll

    404 `poll_not_found` for unknown polls and, for viewers, drafts.
    """
    poll_id = _poll_id(request)
    staff = await moderator_for(request, event["id"]) is not None
    return await polls.get_poll(app_state(request).ctx, event["id"], poll_id, staff=staff, device=device_id(request))


@api.patch(POLL, body=UpdatePoll, response=Poll, errors=(409,), moderator=True)
async def update_poll(request: Request, event: sqlite3.Row, body: UpdatePoll) -> dict[str, Any]:
    """Launch, close, reset, reorder or edit a poll

    409 `invalid_transition` for a state change that is not allowed, `poll_not_editable` for content changes
    after launch.
    """
    state = app_state(request)
    return await polls.update_poll(state.ctx, state.results, event["id"], _poll_id(request), body)


@api.delete(POLL, status=204, errors=(409,), moderator=True)
async def delete_poll(request: Request, event: sqlite3.Row) -> None:
    """Delete a poll that is not open

    409 `poll_open` while it is open.
    """
    await polls.delete_poll(app_state(request).ctx, event["id"], _poll_id(request))


# The vote finds the event, the poll and its options in one query (`loads_event=False`): in a burst of thousands
# of ballots every trip to the database thread counts (docs/performance.md).
@api.post(
    VOTES,
    body=CastBallot,
    response=BallotReceipt,
    status=201,
    errors=(400, 404, 409),
    rate_limited=True,
    loads_event=False,
    live="ballot",
)
async def cast_ballot(request: Request, body: CastBallot) -> dict[str, Any]:
    """Answer a poll; a new ballot from the same device replaces the old one

    Needs the device cookie. Answered once the ballot is committed. 409 `poll_not_open` for drafts and closed
    polls; 422 `blocked_text` for words the filter refuses.
    """
    state = app_state(request)
    target = await ballots.ballot_target(state.ctx, request.path_params["slug"], _poll_id(request), state.ballots)
    device = require_device(request)
    await state.limiter.check("poll answers", ballot_device=device, ballot_address=client_address(request))
    return await ballots.cast(state.ctx, state.ballots, target, body, device=device)


routes = api.routes
