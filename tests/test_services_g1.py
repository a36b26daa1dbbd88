"""Events, agenda, studio and export as services: called directly with a Context on a real database (the real
migrations), without a server. What a subscriber of the hub receives is recorded by a small client of the hub."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixtures import HubPage

from smartrlp.core.errors import ApiError
from smartrlp.models.events import Event
from smartrlp.models.export import Export
from smartrlp.models.studio import CreatedStudioLink, CreateStudioLink, SetScreen, StudioLinkList
from smartrlp.services import accounts, agenda, events, export, studio, users
from smartrlp.services.context import Context
from smartrlp.web.summary import summarise

AGENDA = [
    {"title": "Begrüßung", "speakers": "Oberbürgermeisterin", "kind": "talk", "starts_at": None, "duration_minutes": 5},
    {"title": "Ihre Fragen", "speakers": "", "kind": "questions", "starts_at": None, "duration_minutes": 30},
]


async def new_event(ctx: Context, slug: str = "rat", **fields: Any) -> Any:
    async with ctx.db.transaction() as tx:
        await events.create_event(tx, {"slug": slug, "title": f"Stadtrat {slug}", **fields}, AGENDA)
    return await events.event_by_slug(ctx.db, slug)


async def new_poll(ctx: Context, event_id: int, state: str) -> int:
    async with ctx.db.transaction() as tx:
        row = await tx.fetchone(
            "INSERT INTO polls (event_id, position, title, kind, state, scale_max, created_at, updated_at) "
            "VALUES (:event_id, 0, 'Wie digital?', 'rating', :state, 5, :now, :now) RETURNING id",
            {"event_id": event_id, "state": state, "now": ctx.now()},
        )
    assert row is not None
    return int(row["id"])


# ---------------------------------------------------------------- events and the agenda


@pytest.mark.anyio
async def test_marking_the_agenda_logs_one_event_change_and_keeps_the_start(ctx: Context) -> None:
    event = await new_event(ctx)
    items = await events.agenda_of(ctx.db, event["id"])
    recorder = HubPage(staff=True)
    with ctx.hub.subscribe(event["id"], recorder):
        marked = await agenda.set_current_item(ctx, event["id"], items[1]["id"])
        again = await agenda.set_current_item(ctx, event["id"], items[1]["id"])
        cleared = await agenda.set_current_item(ctx, event["id"], None)
    assert marked["item_id"] == items[1]["id"]
    assert marked["started_at"]
    assert again == marked, "marking the same item again must not restart its clock"
    assert cleared == {"item_id": None, "started_at": None}
    assert recorder.types() == ["event", "event"]
    first = recorder.messages[0]["event"]
    assert first["current_agenda"] == {"item_id": items[1]["id"], "started_at": marked["started_at"]}
    assert recorder.messages[1]["event"]["current_agenda"] is None
    # The change log holds the same, for pages that reconnect.
    logged = await ctx.db.fetchall("SELECT type FROM changes WHERE event_id = :id ORDER BY seq", {"id": event["id"]})
    assert [r["type"] for r in logged] == ["event", "event"]


@pytest.mark.anyio
async def test_an_item_of_another_event_cannot_be_marked(ctx: Context) -> None:
    event = await new_event(ctx, "rat")
    other = await new_event(ctx, "kreistag")
    foreign = (await events.agenda_of(ctx.db, other["id"]))[0]
    with pytest.raises(ApiError) as refused:
        await agenda.set_current_item(ctx, event["id"], foreign["id"])
    assert (refused.value.status, refused.value.code) == (404, "agenda_item_not_found")
    row = await events.event_by_slug(ctx.db, "rat")
    assert row["current_agenda_item_id"] is None


@pytest.mark.anyio
async def test_the_event_json_has_exactly_the_declared_keys(ctx: Context) -> None:
    event = await new_event(ctx, youtube_url="https://youtu.be/dQw4w9WgXcQ", hashtag="#Rat")
    async with ctx.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO panelists (event_id, position, name, role) VALUES (:id, 0, 'Malu Dreyer', 'MP')",
            {"id": event["id"]},
        )
    await agenda.set_current_item(ctx, event["id"], (await events.agenda_of(ctx.db, event["id"]))[0]["id"])
    details = await events.event_details(ctx.db, await events.event_by_slug(ctx.db, "rat"))
    # Reply models refuse unknown keys: a key the server sends but the schema lacks fails here.
    checked = Event.model_validate(details)
    assert checked.model_dump(mode="json") == details
    assert details["streams"][0]["embed_url"].startswith("https://www.youtube-nocookie.com/")
    assert details["panelists"] == [{"id": details["panelists"][0]["id"], "name": "Malu Dreyer", "role": "MP"}]


@pytest.mark.anyio
async def test_an_event_change_is_published_after_the_commit_in_seq_order(ctx: Context) -> None:
    event = await new_event(ctx)
    recorder = HubPage(staff=True)
    with ctx.hub.subscribe(event["id"], recorder):
        async with ctx.db.transaction() as tx:
            await events.log_event_change(ctx.log, tx, event["id"])
            await events.log_event_change(ctx.log, tx, event["id"])
            assert recorder.messages == [], "published only after the commit"
    assert recorder.types() == ["event"] * 2
    assert [m["seq"] for m in recorder.messages] == [1, 2]


# ---------------------------------------------------------------- the studio


@pytest.mark.anyio
async def test_the_screen_shows_launched_polls_only_and_tells_of_real_changes(ctx: Context) -> None:
    event = await new_event(ctx)
    draft, launched = await new_poll(ctx, event["id"], "draft"), await new_poll(ctx, event["id"], "open")
    recorder = HubPage(staff=True)
    with ctx.hub.subscribe(event["id"], recorder):
        with pytest.raises(ApiError) as refused:
            await studio.set_screen(ctx, event["id"], SetScreen(mode="poll", poll_id=draft))
        assert (refused.value.status, refused.value.code) == (409, "poll_not_launched")
        with pytest.raises(ApiError) as missing:
            await studio.set_screen(ctx, event["id"], SetScreen(mode="poll"))
        assert missing.value.details == {"field": "poll_id"}
        shown = await studio.set_screen(ctx, event["id"], SetScreen(mode="poll", poll_id=launched))
        await studio.set_screen(ctx, event["id"], SetScreen(mode="poll", poll_id=launched))
        # A poll id sent with another mode means nothing: the screen shows no poll.
        joined = await studio.set_screen(ctx, event["id"], SetScreen(mode="join", poll_id=launched))
    assert shown == {"mode": "poll", "poll_id": launched, "pinned": False}
    assert joined == {"mode": "join", "poll_id": None, "pinned": False}
    assert [m["screen"] for m in recorder.messages] == [shown, joined]
    row = await events.event_by_slug(ctx.db, "rat")
    assert (row["screen_mode"], row["screen_poll_id"]) == ("join", None)


@pytest.mark.anyio
async def test_a_studio_link_opens_one_view_of_one_event_until_revoked(ctx: Context) -> None:
    event = await new_event(ctx, "rat")
    other = await new_event(ctx, "kreistag")
    moderator = await users.create_account(ctx, "Regie-Moderation", "ein langes Passwort", event_ids=[event["id"]])
    body = CreateStudioLink(view="present", label="  Regie  ")
    link = await studio.create_link(ctx, event, body, moderator=moderator, base="https://live.example.de")
    CreatedStudioLink.model_validate(link)
    assert link["label"] == "Regie"
    assert link["url"].startswith("https://live.example.de/e/rat/present?token=srs_")
    token = link["url"].split("token=", 1)[1]
    # Only the token's hash is stored, the same hash as every other token of the product.
    stored = await ctx.db.fetchone("SELECT token_hash FROM studio_links WHERE id = :id", {"id": link["id"]})
    assert stored is not None
    assert stored["token_hash"] == accounts.token_hash(token)

    assert await studio.studio_role(ctx, event["id"], "present", moderator=None, token=token) == "studio"
    assert await studio.studio_role(ctx, event["id"], "overlay", moderator=moderator, token=None) == "moderator"
    for event_id, view in ((event["id"], "overlay"), (other["id"], "present")):
        with pytest.raises(ApiError) as refused:
            await studio.studio_role(ctx, event_id, view, moderator=None, token=token)
        assert refused.value.status == 403
    with pytest.raises(ApiError):  # a moderator of another event only
        await studio.studio_role(ctx, other["id"], "present", moderator=moderator, token=None)

    await studio.revoke_link(ctx, event["id"], link["id"])
    with pytest.raises(ApiError):
        await studio.studio_role(ctx, event["id"], "present", moderator=None, token=token)
    listed = await studio.list_links(ctx, event["id"])
    StudioLinkList.model_validate(listed)
    assert [item["revoked_at"] is not None for item in listed["links"]] == [True]
    with pytest.raises(ApiError) as unknown:
        await studio.revoke_link(ctx, other["id"], link["id"])
    assert (unknown.value.status, unknown.value.code) == (404, "link_not_found")


@pytest.mark.anyio
async def test_a_join_code_is_found_however_it_is_typed(ctx: Context) -> None:
    event = await new_event(ctx)
    code = event["join_code"]
    assert await studio.slug_for_join_code(ctx, f" {code[:3].lower()}-{code[3:]} ") == "rat"
    assert await studio.slug_for_join_code(ctx, "ZZZZZZ") is None
    assert studio.public_base("", "http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert studio.public_base("https://live.example.de/", "http://10.0.0.5/") == "https://live.example.de"


# ---------------------------------------------------------------- the export


@pytest.mark.anyio
async def test_the_export_has_the_declared_shape_and_no_device(ctx: Context) -> None:
    event = await new_event(ctx, starts_at="2026-11-26T17:00:00Z", ends_at="2026-11-26T18:30:00Z")
    await new_poll(ctx, event["id"], "draft")
    async with ctx.db.transaction() as tx:
        for text, status in (("=HYPERLINK(1)", "approved"), ("Wann kommt das WLAN?", "answered")):
            await tx.execute(
                "INSERT INTO questions (event_id, text, device_id, status, votes, created_at, updated_at, answered_at) "
                "VALUES (:id, :text, 'geraet-1', :status, 2, :now, :now, :answered)",
                {
                    "id": event["id"],
                    "text": text,
                    "status": status,
                    "now": "2026-11-26T17:05:00.000Z",
                    "answered": "2026-11-26T17:20:00.000Z" if status == "answered" else None,
                },
            )
    data = await export.export_of_event(ctx.db, event)
    Export.model_validate(data)
    assert data["polls"] == [], "a draft was never shown to anyone"
    assert "geraet-1" not in json.dumps(data)
    csv_file = export.render_export(data, "csv", "questions")
    assert csv_file.filename == "rat-fragen.csv"
    assert "'=HYPERLINK(1)" in csv_file.body.decode("utf-8-sig")

    summary = summarise(data, "2026-11-27T09:00:00.000Z")
    assert summary["date"] == "Donnerstag, 26. November 2026, 18:00–19:30 Uhr"
    assert summary["generated"] == "27.11.2026, 10:00 Uhr"
    assert [q["answered"] for q in summary["answered"]] == [("time", "18:20 Uhr")]
