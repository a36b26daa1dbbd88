"""Accounts, the event administration and the demo, called in-process as the CLI and the admin pages call them:
a real database with the real migrations, `Context.offline`, no HTTP and nothing mocked."""

from __future__ import annotations

import pytest
from fixtures import HubPage

from smartrlp.services import accounts, demo, event_admin, events, users
from smartrlp.services.accounts import AccountError, Moderator
from smartrlp.services.context import Context

PASSWORD = "ein langes Passwort"


async def new_event(ctx: Context, slug: str, **fields: object) -> int:
    return await event_admin.create_event(ctx, {"slug": slug, "title": f"Titel {slug}", **fields})


async def refusal(work: object) -> AccountError:
    with pytest.raises(AccountError) as caught:
        await work  # type: ignore[misc]
    return caught.value


# ---------------------------------------------------------------- one way to create an account


@pytest.mark.anyio
async def test_every_way_in_gets_the_same_rules_for_names_and_passwords(ctx: Context) -> None:
    too_long = await refusal(users.create_account(ctx, "x" * 61, PASSWORD))
    assert too_long.code == "name_too_long"
    assert (await refusal(users.create_account(ctx, "Tab\tim Namen", PASSWORD))).code == "name_control"
    assert (await refusal(users.create_account(ctx, "unsicht\u200bbar", PASSWORD))).code == "name_control"
    short = await refusal(users.create_account(ctx, "Kurt", "elf Zeichen"))
    assert short.code == "password_too_short"
    assert "at least 12 characters" in str(short)
    # Several problems at once: a form shows them all, the command line prints them all.
    both = await refusal(users.create_account(ctx, "", "kurz", role="kaiser"))
    assert {p.code for p in both.problems} == {"name_missing", "password_too_short", "role_unknown"}
    assert not await users.any_account(ctx)

    created = await users.create_account(ctx, "  Özlem Kaya  ", PASSWORD)
    assert created.name == "Özlem Kaya"  # trimmed
    taken = await refusal(users.create_account(ctx, "ÖZLEM KAYA", "ein anderes Passwort"))
    assert taken.code == "name_taken"
    assert taken.problems[0].params["name"] == "Özlem Kaya"
    assert await users.create_account(ctx, "x" * 60, PASSWORD)  # 60 is allowed
    # Names are looked up the way they are compared: logging in and tokens ignore case beyond ASCII too.
    assert await accounts.check_password(ctx, "özlem kaya", PASSWORD) == created
    assert await accounts.check_password(ctx, "özlem kaya", "falsch geraten!") is None
    assert (await accounts.create_token(ctx, "ÖZLEM KAYA")).startswith(accounts.TOKEN_PREFIX)


@pytest.mark.anyio
async def test_events_restrict_a_moderator_but_never_an_admin(ctx: Context) -> None:
    first, second = await new_event(ctx, "erste"), await new_event(ctx, "zweite")
    ids = await users.event_ids_by_slug(ctx, ["zweite"])
    assert ids == [second]
    assert (await refusal(users.event_ids_by_slug(ctx, ["gibt-es-nicht"]))).code == "event_unknown"
    assert (await refusal(users.create_account(ctx, "Ela", PASSWORD, event_ids={999}))).code == "event_unknown"

    restricted = await users.create_account(ctx, "Nur-Zwei", PASSWORD, event_ids=ids)
    chief = await users.create_account(ctx, "Chefin", PASSWORD, role="admin", event_ids=ids)
    assert not await accounts.may_moderate(ctx.db, restricted, first)
    assert await accounts.may_moderate(ctx.db, restricted, second)
    assert await accounts.may_moderate(ctx.db, chief, first)
    assert await users.assigned_event_ids(ctx, chief.id) == set()  # an admin needs no rows

    # Deleting the only event of a restricted moderator must not open every event to them.
    await event_admin.delete_event(ctx, second)
    assert not await accounts.may_moderate(ctx.db, restricted, first)


# ---------------------------------------------------------------- keeping an admin in charge, locking people out


@pytest.mark.anyio
async def test_an_admin_cannot_demote_or_delete_themselves_and_a_demoted_admin_cannot_act(ctx: Context) -> None:
    first = await users.create_account(ctx, "erste", PASSWORD, role="admin")
    self_demote = await refusal(users.update_account(ctx, first, first.id, role="moderator"))
    assert self_demote.code == "self_demote"
    assert (await refusal(users.delete_account(ctx, first, first.id))).code == "self_delete"
    # The command line has no actor, and still keeps the last admin.
    assert (await refusal(users.update_account(ctx, None, first.id, role="moderator"))).code == "last_admin"
    assert (await refusal(users.delete_account(ctx, None, first.id))).code == "last_admin"

    second = await users.create_account(ctx, "zweite", PASSWORD, role="admin", actor=first)
    await users.update_account(ctx, second, first.id, role="moderator")
    # The demoted admin's next change is refused under the write lock, whatever its page still shows.
    refused = await refusal(users.create_account(ctx, "dritte", PASSWORD, actor=first))
    assert refused.code == "not_admin"
    assert await accounts.account_named(ctx.db, "dritte") is None


@pytest.mark.anyio
async def test_a_new_password_ends_the_other_sessions_and_tokens_only_when_asked(ctx: Context) -> None:
    admin = await users.create_account(ctx, "admin", PASSWORD, role="admin")
    kept, ended = await accounts.start_session(ctx, admin), await accounts.start_session(ctx, admin)
    token = await accounts.create_token(ctx, "admin", "Skript")
    await users.set_password(ctx, admin, admin.id, "das neue Passwort 456", keep_session=kept)
    assert await accounts.live_session(ctx, kept) is not None
    assert await accounts.live_session(ctx, ended) is None
    assert await accounts.token_moderator(ctx, token) == Moderator(admin.id, "admin", "admin")
    assert await accounts.check_password(ctx, "admin", PASSWORD) is None
    assert await accounts.check_password(ctx, "admin", "das neue Passwort 456") is not None

    await users.set_password(ctx, admin, admin.id, "das dritte Passwort", keep_session=kept, revoke_tokens=True)
    assert await accounts.token_moderator(ctx, token) is None
    assert (await refusal(accounts.revoke_token(ctx, 1))).code == "token_revoked"

    moderator = await users.create_account(ctx, "weg", PASSWORD, actor=admin)
    await accounts.start_session(ctx, moderator)
    assert await users.logins_of(ctx, moderator.id) == {"sessions": 1, "tokens": 0}
    await users.delete_account(ctx, admin, moderator.id)
    assert (await refusal(users.account(ctx.db, moderator.id))).code == "account_missing"
    assert await users.logins_of(ctx, moderator.id) == {"sessions": 0, "tokens": 0}


# ---------------------------------------------------------------- the event administration


@pytest.mark.anyio
async def test_an_event_is_created_once_per_slug_and_its_changes_reach_open_pages(ctx: Context) -> None:
    event_id = await new_event(ctx, "stadtrat", moderation_mode="post", names_allowed=0, recording_url=None)
    with pytest.raises(event_admin.SlugTaken):
        await new_event(ctx, "stadtrat")
    row = await events.event_by_slug(ctx.db, "stadtrat")
    assert (row["moderation_mode"], row["names_allowed"], row["questions_open"]) == ("post", 0, 1)
    assert len(row["join_code"]) == events.JOIN_CODE_LENGTH

    viewer = HubPage()
    with ctx.hub.subscribe(event_id, viewer):
        saved = await event_admin.save_entry(
            ctx,
            event_admin.AGENDA,
            event_id,
            None,
            {"title": "Begrüßung", "speakers": "", "kind": "talk", "starts_at": None, "duration_minutes": 10},
        )
        assert saved
        other = await new_event(ctx, "andere")
        entry = (await event_admin.entries(ctx, event_admin.AGENDA, event_id))[0]
        # An entry is found only in its own event.
        assert not await event_admin.delete_entry(ctx, event_admin.AGENDA, other, entry["id"])
        await event_admin.set_archived(ctx, event_id, True)
    assert [m["type"] for m in viewer.messages] == ["event", "event"]
    assert [a["title"] for a in viewer.messages[0]["event"]["agenda"]] == ["Begrüßung"]
    assert viewer.messages[1]["event"]["archived"] is True
    assert [m["seq"] for m in viewer.messages] == [1, 2]


@pytest.mark.anyio
async def test_a_duplicate_copies_settings_and_agenda_under_a_free_slug(ctx: Context) -> None:
    assert await demo.ensure_demo_event(ctx) == "created"
    assert await demo.ensure_demo_event(ctx) == "kept"  # once: it is live
    source = await events.event_by_slug(ctx.db, demo.DEMO_SLUG)
    assert [p["name"] for p in await events.panelists_of(ctx.db, source["id"])] == [p["name"] for p in demo.DEMO_PANEL]
    first = await event_admin.duplicate_event(ctx, source["id"], "Kopie")
    second = await event_admin.duplicate_event(ctx, source["id"], "Noch eine Kopie")
    assert (first, second) == (f"{demo.DEMO_SLUG}-kopie", f"{demo.DEMO_SLUG}-kopie-2")
    copy = await events.event_details(ctx.db, await events.event_by_slug(ctx.db, first))
    original = await events.event_details(ctx.db, source)
    assert copy["title"] == "Kopie"
    assert [a["title"] for a in copy["agenda"]] == [a["title"] for a in original["agenda"]]
    assert copy["streams"] == original["streams"]
    # The panel comes along (a city runs the same panel again); each copy has rows of its own.
    assert [p["name"] for p in copy["panelists"]] == [p["name"] for p in original["panelists"]]
    assert {p["id"] for p in copy["panelists"]}.isdisjoint(p["id"] for p in original["panelists"])
    assert copy["join_code"] != original["join_code"]
    assert event_admin.slugify("Bürgerdialog: Straßenbau & Grünflächen") == "buergerdialog-strassenbau-gruenflaechen"


@pytest.mark.anyio
async def test_the_demo_admin_is_made_once_on_an_empty_database(ctx: Context) -> None:
    password = await demo.ensure_demo_admin(ctx)
    assert password is not None
    assert len(password) >= users.PASSWORD_MIN
    assert await demo.ensure_demo_admin(ctx) is None  # a restart neither adds one nor changes the password
    admin = await accounts.check_password(ctx, demo.DEMO_ADMIN, password)
    assert admin is not None
    assert admin.role == "admin"
