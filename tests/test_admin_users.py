"""User accounts in the administration at /admin/users against the real server: who may, the name and password
rules, generated passwords, what the event choice does to the moderator page, the rules that keep an admin in
charge, and that a new password or a deletion really locks the account out. Last, one browser test."""

from __future__ import annotations

import contextlib
import html
import re
import sqlite3

import httpx
import pytest
from browsing import Pages, log_in, new_event
from fixtures import SLUG, Server, add_moderator, bearer, create_event, create_token, csrf_of, demo_credentials, login
from playwright.sync_api import expect

USERS = "/admin/users"
NEW = f"{USERS}/new"
SHOWN_PASSWORD = re.compile(r"<code>([^<]+)</code>")


@pytest.fixture(scope="module")
def admin(shared_admin: httpx.Client) -> httpx.Client:
    return shared_admin


def db_rows(server: Server, sql: str, *params: object) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(server.db_path)) as db:
        return db.execute(sql, params).fetchall()


def event_id(server: Server, slug: str) -> int:
    return int(db_rows(server, "SELECT id FROM events WHERE slug = ?", slug)[0][0])


def user_id(server: Server, name: str) -> int:
    return int(db_rows(server, "SELECT id FROM moderators WHERE name = ?", name)[0][0])


def create_user(
    client: httpx.Client,
    name: str,
    *,
    password: str | None = "ein langes Passwort 123",
    repeat: str | None = None,
    role: str = "moderator",
    events: tuple[int, ...] = (),
    generate: bool = False,
) -> httpx.Response:
    data: dict[str, str | list[str]] = {"csrf": csrf_of(client, f"{USERS}/new"), "name": name, "role": role}
    data["events"] = [str(e) for e in events]
    if generate:
        data["generate"] = "on"
    if password is not None:
        data["password"] = password
        data["password_repeat"] = password if repeat is None else repeat
    return client.post(f"{USERS}/new", data=data)


def set_password(client: httpx.Client, account: int, password: str, **extra: str) -> httpx.Response:
    path = f"{USERS}/{account}"
    data = {"csrf": csrf_of(client, path), "password": password, "password_repeat": password, **extra}
    return client.post(f"{path}/password", data=data)


def logged_out(client: httpx.Client) -> bool:
    """True when the client's login session no longer counts, on a page and on the API alike."""
    page = client.get(f"/e/{SLUG}/moderate")
    api = client.get(f"/api/events/{SLUG}/studio-links")
    return page.status_code == 303 and page.headers["location"].startswith("/login") and api.status_code == 401


def can_log_in(server: Server, name: str, password: str) -> bool:
    with server.client() as client:
        return client.post("/login", data={"name": name, "password": password, "next": "/"}).status_code == 303


# ---------------------------------------------------------------- who may


def test_only_admins_may_manage_accounts(shared_server: Server) -> None:
    with shared_server.client() as anonymous:
        for path in (USERS, f"{USERS}/new", f"{USERS}/1", f"{USERS}/1/delete"):
            response = anonymous.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == f"/login?next={path}"
        assert anonymous.post(f"{USERS}/new", data={"name": "x"}).status_code == 303
    add_moderator(shared_server, "nur-moderation", "correct horse nur")
    moderator = login(shared_server, "nur-moderation", "correct horse nur")
    try:
        for path in (USERS, f"{USERS}/new", f"{USERS}/{user_id(shared_server, 'nur-moderation')}"):
            assert moderator.get(path).status_code == 403, path
        response = moderator.post(f"{USERS}/new", data={"name": "eingeschmuggelt", "role": "admin"})
        assert response.status_code == 403
        assert not db_rows(shared_server, "SELECT 1 FROM moderators WHERE name = 'eingeschmuggelt'")
    finally:
        moderator.close()


def test_every_form_needs_the_csrf_token(admin: httpx.Client, shared_server: Server) -> None:
    form = {"name": "ohne-token", "role": "admin", "password": "x" * 20, "password_repeat": "x" * 20}
    assert admin.post(f"{USERS}/new", data=form).status_code == 403
    assert admin.post(f"{USERS}/new", data={**form, "csrf": "x" * 27}).status_code == 403
    assert not db_rows(shared_server, "SELECT 1 FROM moderators WHERE name = 'ohne-token'")

    assert create_user(admin, "mit-token").status_code == 303
    account = user_id(shared_server, "mit-token")
    assert admin.post(f"{USERS}/{account}", data={"role": "admin"}).status_code == 403
    assert admin.post(f"{USERS}/{account}/password", data={"generate": "on"}).status_code == 403
    assert admin.post(f"{USERS}/{account}/delete", data={"confirm_name": "mit-token"}).status_code == 403
    assert db_rows(shared_server, "SELECT role FROM moderators WHERE id = ?", account) == [("moderator",)]
    assert can_log_in(shared_server, "mit-token", "ein langes Passwort 123")


def test_unknown_accounts_are_not_found(admin: httpx.Client) -> None:
    for path in (f"{USERS}/999999", f"{USERS}/abc", f"{USERS}/999999/delete", f"{USERS}/-1"):
        assert admin.get(path).status_code == 404, path


# ---------------------------------------------------------------- creating accounts


def test_an_account_with_a_typed_password_can_log_in(admin: httpx.Client, shared_server: Server) -> None:
    response = create_user(admin, "Kerstin Brandt", password="Wochenmarkt am Stiftsplatz")
    assert response.status_code == 303, response.text
    account = user_id(shared_server, "Kerstin Brandt")
    assert response.headers["location"] == f"{USERS}?done=created#user-{account}"
    listing = admin.get(f"{USERS}?done=created").text
    assert "Das Konto wurde angelegt." in listing
    entry = listing[listing.index(f'id="user-{account}"') :]
    entry = entry[: entry.index("</li>")]
    assert "Kerstin Brandt" in entry
    assert "Moderation" in entry
    assert "alle Veranstaltungen" in entry
    assert "argon2" not in listing  # no hash, not even a part of one
    assert "argon2" not in admin.get(f"{USERS}/{account}").text

    moderator = login(shared_server, "Kerstin Brandt", "Wochenmarkt am Stiftsplatz")
    try:
        assert moderator.get(f"/e/{SLUG}/moderate").status_code == 200
        assert moderator.get("/admin").status_code == 403
    finally:
        moderator.close()
    assert "Letzte Anmeldung" in admin.get(USERS).text


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("", "", "Bitte geben Sie ein Passwort ein oder wählen Sie „Passwort erzeugen“."),
        ("elf Zeichen", "elf Zeichen", "mindestens 12 Zeichen"),
        ("zwölf Zeichen!", "zwölf Zeichen?", "Die beiden Passwörter stimmen nicht überein."),
    ],
)
def test_a_weak_or_mistyped_password_is_refused(
    admin: httpx.Client, shared_server: Server, password: str, repeat: str, message: str
) -> None:
    response = create_user(admin, "passwort-probe", password=password, repeat=repeat)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert 'id="form-errors"' in response.text
    assert 'value="passwort-probe"' in response.text  # the name is kept
    if password:
        assert password not in html.unescape(response.text)  # a typed password is never sent back
    assert not db_rows(shared_server, "SELECT 1 FROM moderators WHERE name = 'passwort-probe'")


def test_a_generated_password_is_shown_once_and_works(admin: httpx.Client, shared_server: Server) -> None:
    response = create_user(admin, "Jonas Weber", password=None, generate=True)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "Das Konto „Jonas Weber“ ist angelegt." in response.text
    password = html.unescape(SHOWN_PASSWORD.search(response.text).group(1))
    assert len(password) >= 12
    assert f"{shared_server.url}/login" in response.text
    assert password not in admin.get(USERS).text
    assert can_log_in(shared_server, "Jonas Weber", password)

    # A typed password that came along is ignored: the page said the generated one wins.
    other = create_user(admin, "Jonas Weber 2", password="getippt und ignoriert", generate=True)
    assert other.status_code == 200
    assert not can_log_in(shared_server, "Jonas Weber 2", "getippt und ignoriert")
    assert can_log_in(shared_server, "Jonas Weber 2", html.unescape(SHOWN_PASSWORD.search(other.text).group(1)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Bitte geben Sie einen Namen ein."),
        ("   ", "Bitte geben Sie einen Namen ein."),
        ("x" * 61, "höchstens 60 Zeichen"),
        ("Tab\tim Namen", "keine Steuerzeichen"),
        ("Zeile\nUmbruch", "keine Steuerzeichen"),
        ("unsicht\u200bbar", "keine Steuerzeichen"),
        ("DEMO", "Den Namen „demo“ gibt es schon"),
    ],
)
def test_the_name_rules(admin: httpx.Client, name: str, message: str) -> None:
    response = create_user(admin, name)
    assert response.status_code == 422, response.text
    assert message in html.unescape(response.text)
    assert 'aria-describedby="name-hint name-error"' in response.text


def test_names_differing_only_in_case_are_one_name_beyond_ascii_too(admin: httpx.Client, shared_server: Server) -> None:
    assert create_user(admin, "x" * 60).status_code == 303  # 60 is allowed
    assert create_user(admin, "  Özlem Kaya  ").status_code == 303
    assert db_rows(shared_server, "SELECT 1 FROM moderators WHERE name = 'Özlem Kaya'")  # trimmed
    refused = create_user(admin, "ÖZLEM KAYA")
    assert refused.status_code == 422
    assert "Den Namen „Özlem Kaya“ gibt es schon" in html.unescape(refused.text)


# ---------------------------------------------------------------- which events


def test_events_restrict_the_moderator_page_and_none_means_all(admin: httpx.Client, shared_server: Server) -> None:
    create_event(shared_server, "nur-andere", "Die andere Veranstaltung")
    demo_event = event_id(shared_server, SLUG)
    assert create_user(admin, "nur-demo", events=(demo_event,)).status_code == 303
    assert create_user(admin, "ueberall").status_code == 303
    listing = admin.get(USERS).text
    entry = listing[listing.index(f'id="user-{user_id(shared_server, "nur-demo")}"') :]
    assert "Smart RLP – Digitalisierung in Rheinland-Pfalz" in entry[: entry.index("</li>")]

    restricted = login(shared_server, "nur-demo", "ein langes Passwort 123")
    everywhere = login(shared_server, "ueberall", "ein langes Passwort 123")
    try:
        assert restricted.get(f"/e/{SLUG}/moderate").status_code == 200
        assert restricted.get("/e/nur-andere/moderate").status_code == 403
        assert restricted.get("/api/events/nur-andere/studio-links").status_code == 403
        assert everywhere.get(f"/e/{SLUG}/moderate").status_code == 200
        assert everywhere.get("/e/nur-andere/moderate").status_code == 200

        # Editing: the other event only, then none at all (every event).
        account = user_id(shared_server, "nur-demo")
        path = f"{USERS}/{account}"
        form = {
            "csrf": csrf_of(admin, path),
            "role": "moderator",
            "events": [str(event_id(shared_server, "nur-andere"))],
        }
        response = admin.post(path, data=form)
        assert response.status_code == 303
        assert response.headers["location"] == f"{USERS}?done=saved#user-{account}"
        assert restricted.get(f"/e/{SLUG}/moderate").status_code == 403
        assert restricted.get("/e/nur-andere/moderate").status_code == 200
        edit = admin.get(path).text
        assert f'id="field-event-{event_id(shared_server, "nur-andere")}" checked' in edit
        assert f'id="field-event-{demo_event}" checked' not in edit
        assert admin.post(path, data={"csrf": csrf_of(admin, path), "role": "moderator"}).status_code == 303
        assert restricted.get(f"/e/{SLUG}/moderate").status_code == 200
        assert restricted.get("/e/nur-andere/moderate").status_code == 200
    finally:
        restricted.close()
        everywhere.close()


def test_an_unknown_event_or_role_is_explained(admin: httpx.Client, shared_server: Server) -> None:
    response = create_user(admin, "falsche-wahl", events=(999999,))
    assert response.status_code == 422
    assert "Eine der gewählten Veranstaltungen gibt es nicht (mehr)." in response.text
    response = create_user(admin, "falsche-rolle", role="chef")
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Rolle." in response.text
    assert not db_rows(shared_server, "SELECT 1 FROM moderators WHERE name IN ('falsche-wahl', 'falsche-rolle')")


def test_an_admin_moderates_every_event_whatever_is_checked(admin: httpx.Client, shared_server: Server) -> None:
    assert create_user(admin, "zweite-admin", role="admin", events=(event_id(shared_server, SLUG),)).status_code == 303
    account = user_id(shared_server, "zweite-admin")
    assert db_rows(shared_server, "SELECT * FROM event_moderators WHERE moderator_id = ?", account) == []
    other = login(shared_server, "zweite-admin", "ein langes Passwort 123")
    try:
        assert other.get(USERS).status_code == 200
    finally:
        other.close()


# ---------------------------------------------------------------- keeping an admin in charge


def test_an_admin_can_neither_demote_nor_delete_themselves(server: Server) -> None:
    name, password = demo_credentials(server)
    demo = login(server, name, password)
    try:
        me = user_id(server, name)
        response = demo.post(f"{USERS}/{me}", data={"csrf": csrf_of(demo, f"{USERS}/{me}"), "role": "moderator"})
        assert response.status_code == 422
        assert "Sie können sich nicht selbst die Rolle Administration nehmen." in response.text
        assert db_rows(server, "SELECT role FROM moderators WHERE id = ?", me) == [("admin",)]

        page = demo.get(f"{USERS}/{me}/delete")
        assert "Ihr eigenes Konto können Sie nicht löschen." in page.text
        assert 'name="confirm_name"' not in page.text
        response = demo.post(f"{USERS}/{me}/delete", data={"csrf": csrf_of(demo, NEW), "confirm_name": name})
        assert response.status_code == 409
        assert db_rows(server, "SELECT 1 FROM moderators WHERE id = ?", me)

        # A second admin may demote the first; then the second is the last admin and keeps the role.
        assert create_user(demo, "stadtverwaltung", role="admin").status_code == 303
        second = login(server, "stadtverwaltung", "ein langes Passwort 123")
        try:
            response = second.post(f"{USERS}/{me}", data={"csrf": csrf_of(second, NEW), "role": "moderator"})
            assert response.status_code == 303
            assert demo.get(USERS).status_code == 403  # at once, in the session already open
            mine = user_id(server, "stadtverwaltung")
            response = second.post(f"{USERS}/{mine}", data={"csrf": csrf_of(second, NEW), "role": "moderator"})
            assert response.status_code == 422
            assert db_rows(server, "SELECT COUNT(*) FROM moderators WHERE role = 'admin'") == [(1,)]

            # An admin's own new password ends their other sessions, not the one they used.
            elsewhere = login(server, "stadtverwaltung", "ein langes Passwort 123")
            assert set_password(second, mine, "das neue Passwort 456").status_code == 303
            assert second.get(USERS).status_code == 200
            assert elsewhere.get(USERS).status_code == 303
            elsewhere.close()
        finally:
            second.close()
    finally:
        demo.close()


# ---------------------------------------------------------------- locking an account out


def test_a_new_password_ends_the_accounts_sessions_and_tokens_only_when_asked(
    admin: httpx.Client, shared_server: Server
) -> None:
    assert create_user(admin, "wird-gesperrt", password="altes Passwort 1234").status_code == 303
    account = user_id(shared_server, "wird-gesperrt")
    token = create_token(shared_server, "wird-gesperrt")
    phone, laptop = (login(shared_server, "wird-gesperrt", "altes Passwort 1234") for _ in range(2))
    try:
        assert not logged_out(phone)
        mismatch = admin.post(
            f"{USERS}/{account}/password",
            data={"csrf": csrf_of(admin, NEW), "password": "neues Passwort 1234", "password_repeat": "neu"},
        )
        assert mismatch.status_code == 422
        assert not logged_out(phone)

        response = set_password(admin, account, "neues Passwort 1234")
        assert response.status_code == 303
        assert response.headers["location"] == f"{USERS}/{account}?done=password"
        assert logged_out(phone)
        assert logged_out(laptop)
        assert not can_log_in(shared_server, "wird-gesperrt", "altes Passwort 1234")
        assert can_log_in(shared_server, "wird-gesperrt", "neues Passwort 1234")
        with shared_server.client(headers=bearer(token)) as script:
            assert script.get(f"/api/events/{SLUG}/studio-links").status_code == 200  # scripts keep running

        assert "API-Token dieses Kontos widerrufen" in admin.get(f"{USERS}/{account}").text
        response = set_password(admin, account, "drittes Passwort 1234", revoke_tokens="on")
        assert response.status_code == 303
        with shared_server.client(headers=bearer(token)) as script:
            assert script.get(f"/api/events/{SLUG}/studio-links").status_code == 401
    finally:
        phone.close()
        laptop.close()


def test_a_generated_new_password_is_shown_once(admin: httpx.Client, shared_server: Server) -> None:
    assert create_user(admin, "vergesslich").status_code == 303
    account = user_id(shared_server, "vergesslich")
    response = admin.post(f"{USERS}/{account}/password", data={"csrf": csrf_of(admin, NEW), "generate": "on"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "Das neue Passwort für „vergesslich“ gilt ab sofort" in response.text
    assert can_log_in(shared_server, "vergesslich", html.unescape(SHOWN_PASSWORD.search(response.text).group(1)))


def test_deleting_asks_for_the_name_and_ends_sessions_and_tokens(admin: httpx.Client, shared_server: Server) -> None:
    assert create_user(admin, "Geht Bald", events=(event_id(shared_server, SLUG),)).status_code == 303
    account = user_id(shared_server, "Geht Bald")
    token = create_token(shared_server, "Geht Bald")
    session = login(shared_server, "Geht Bald", "ein langes Passwort 123")
    try:
        page = admin.get(f"{USERS}/{account}/delete")
        assert page.status_code == 200
        assert "Die offene Anmeldung endet sofort." in page.text
        assert "Das API-Token gilt nicht mehr." in page.text
        path = f"{USERS}/{account}/delete"
        wrong = admin.post(path, data={"csrf": csrf_of(admin, path), "confirm_name": "ja"})
        assert wrong.status_code == 422
        assert "genau den Namen" in wrong.text
        assert not logged_out(session)

        done = admin.post(path, data={"csrf": csrf_of(admin, path), "confirm_name": "geht bald"})
        assert done.status_code == 303
        assert done.headers["location"] == f"{USERS}?done=deleted"
        assert "Das Konto wurde gelöscht" in admin.get(done.headers["location"]).text
        assert logged_out(session)
        with shared_server.client(headers=bearer(token)) as script:
            assert script.get(f"/api/events/{SLUG}/studio-links").status_code == 401
        assert not can_log_in(shared_server, "Geht Bald", "ein langes Passwort 123")
        for table in ("login_sessions", "api_tokens", "event_moderators"):
            assert db_rows(shared_server, f"SELECT 1 FROM {table} WHERE moderator_id = ?", account) == [], table
        assert admin.get(path).status_code == 404
    finally:
        session.close()


def test_the_admin_home_links_to_the_accounts(admin: httpx.Client) -> None:
    assert f'href="{USERS}"' in admin.get("/admin").text


# ---------------------------------------------------------------- in the browser (last: Playwright's loop stays)


@pytest.mark.browser
def test_an_admin_creates_a_moderator_for_one_event_with_the_keyboard(pages: Pages, shared_server: Server) -> None:
    title = "Bürgerforum Mobilität"
    slug = new_event(shared_server, title, prefix="nutzer")
    elsewhere = new_event(shared_server, "Woanders", prefix="nutzer")
    page = log_in(pages, shared_server, USERS, demo_credentials(shared_server))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verwaltung Benutzerkonten")

    page.get_by_role("link", name="Neues Konto").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Konto")
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type("Moderation Mobilität")
    expect(page.get_by_role("radio", name=re.compile("^Moderation"))).to_be_checked()
    page.get_by_role("checkbox", name=title).focus()
    page.keyboard.press("Space")
    page.get_by_role("checkbox", name="Passwort erzeugen").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Konto anlegen").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Das Konto „Moderation Mobilität“ ist angelegt.")
    password = page.locator(".admin-secret code").inner_text()
    page.get_by_role("link", name="Fertig").click()
    entry = page.get_by_role("listitem").filter(has_text="Moderation Mobilität")
    expect(entry).to_contain_text(title)

    moderator = log_in(pages, shared_server, f"/e/{slug}/moderate", ("Moderation Mobilität", password))
    expect(moderator.get_by_text("Angemeldet als Moderation Mobilität")).to_be_visible()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text(title)
    pages.allow_failed_load(f"{shared_server.url}/e/{elsewhere}/moderate")
    response = moderator.goto(f"{shared_server.url}/e/{elsewhere}/moderate")
    assert response is not None
    assert response.status == 403


def test_deleting_the_only_event_of_a_limited_moderator_does_not_open_every_event(
    shared_server: Server, shared_admin: httpx.Client
) -> None:
    """Once "no event rows" meant "every event", so the cascade of an event deletion widened access."""
    form = {"title": "Nur kurz da", "slug": "nur-kurz-da", "moderation_mode": "approve", "questions_open": "on"}
    assert shared_admin.post("/admin/events/new", data={**form, "csrf": csrf_of(shared_admin)}).status_code == 303
    add_moderator(shared_server, "nur-fuer-kurz", "correct horse nur kurz", events=("nur-kurz-da",))
    limited = login(shared_server, "nur-fuer-kurz", "correct horse nur kurz")
    try:
        assert limited.get("/e/nur-kurz-da/moderate").status_code == 200
        assert limited.get(f"/e/{SLUG}/moderate").status_code == 403
        path = "/admin/events/nur-kurz-da/delete"
        response = shared_admin.post(path, data={"csrf": csrf_of(shared_admin, path), "confirm_slug": "nur-kurz-da"})
        assert response.status_code == 303
        assert limited.get(f"/e/{SLUG}/moderate").status_code == 403
        assert "keine (ihre Veranstaltungen wurden gelöscht)" in shared_admin.get("/admin/users").text
    finally:
        limited.close()
