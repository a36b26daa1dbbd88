"""The panel: who sits on it, questions addressed to one of them, and where that shows."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import SLUG, Server, Viewer, bearer, csrf_of
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def admin(shared_admin: httpx.Client) -> httpx.Client:
    return shared_admin


def add_panelist(admin: httpx.Client, name: str, role: str = "", slug: str = SLUG) -> dict:
    csrf = csrf_of(admin, f"/admin/events/{slug}")
    response = admin.post(f"/admin/events/{slug}/panelists", data={"name": name, "role": role, "csrf": csrf})
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("#podium")
    panelists = admin.get(f"/api/events/{slug}").json()["panelists"]
    return max((p for p in panelists if p["name"] == name), key=lambda p: p["id"])  # the one just added


def test_a_question_addressed_to_a_panelist_keeps_its_addressee(
    admin: httpx.Client, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    dreyer = add_panelist(admin, "Malu Dreyer", "Ministerpräsidentin")
    assert dreyer["role"] == "Ministerpräsidentin"
    asker = viewer()
    response = asker.http.post(
        f"/api/events/{SLUG}/questions", json={"text": "Wie steht es um MiniMOGLI?", "panelist_id": dreyer["id"]}
    )
    assert response.status_code == 201, response.text
    assert response.json()["panelist_id"] == dreyer["id"]
    assert asker.ask("Und an alle?")["panelist_id"] is None
    # Moderating it keeps the addressee (this once answered 500: the update returned fewer columns).
    moderator = viewer(headers=bearer(shared_moderator_token))
    approved = moderator.moderate(response.json()["id"], status="approved", highlighted=True)
    assert approved["panelist_id"] == dreyer["id"]


@pytest.mark.parametrize("panelist_id", [999_999, "1", True, 1.5])
def test_a_question_to_someone_not_on_the_panel_is_refused(viewer: Callable[..., Viewer], panelist_id: object) -> None:
    response = viewer().http.post(f"/api/events/{SLUG}/questions", json={"text": "Hallo?", "panelist_id": panelist_id})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == "panelist_id"


def test_a_panelist_of_another_event_cannot_be_addressed(
    admin: httpx.Client, shared_server: Server, viewer: Callable[..., Viewer]
) -> None:
    form = {"title": "Andere Runde", "slug": "andere-runde", "moderation_mode": "approve", "questions_open": "on"}
    assert admin.post("/admin/events/new", data={**form, "csrf": csrf_of(admin)}).status_code == 303
    other = add_panelist(admin, "Nicole Steingaß", "Staatssekretärin", slug="andere-runde")
    response = viewer().http.post(f"/api/events/{SLUG}/questions", json={"text": "Frage?", "panelist_id": other["id"]})
    assert response.status_code == 422


def test_removing_a_panelist_addresses_their_questions_to_the_panel(
    admin: httpx.Client, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    weichel = add_panelist(admin, "Klaus Weichel", "Oberbürgermeister")
    question = (
        viewer()
        .http.post(f"/api/events/{SLUG}/questions", json={"text": "Wann kommt der Bus?", "panelist_id": weichel["id"]})
        .json()
    )
    assert 'value="Klaus Weichel"' in admin.get(f"/admin/events/{SLUG}").text
    csrf = csrf_of(admin, f"/admin/events/{SLUG}")
    response = admin.post(f"/admin/events/{SLUG}/panelists/{weichel['id']}/delete", data={"csrf": csrf})
    assert response.status_code == 303
    moderator = viewer(headers=bearer(shared_moderator_token))
    stored = next(q for q in moderator.questions() if q["id"] == question["id"])
    assert stored["panelist_id"] is None


@pytest.mark.browser
def test_viewer_addresses_a_panelist_and_moderator_and_presenter_see_it(
    pages: Pages,
    shared_server: Server,
    admin: httpx.Client,
    shared_moderator_credentials: tuple[str, str],
) -> None:
    panelists = admin.get(f"/api/events/{SLUG}").json()["panelists"]
    steingass = next((p for p in panelists if p["name"] == "Nicole Steingaß"), None) or add_panelist(
        admin, "Nicole Steingaß", "Staatssekretärin"
    )
    page = pages.open(f"{shared_server.url}/e/{SLUG}")
    expect_live(page)
    page.get_by_label("Ihre Frage", exact=True).fill("Was tut das Land für die Verwaltungsdigitalisierung?")
    label = f"{steingass['name']} ({steingass['role']})"
    page.get_by_label("Gerichtet an").select_option(label=label)
    page.get_by_role("button", name="Frage senden").click()
    mine = page.get_by_role("region", name="Meine Fragen", exact=True)
    expect(mine).to_contain_text("an Nicole Steingaß")

    moderator = log_in_and_moderate(pages, shared_server, SLUG, shared_moderator_credentials)
    moderator.get_by_label("An:", exact=True).select_option(label=label)  # the console's filter row
    incoming = moderator.get_by_role("region", name=re.compile("^Eingang")).get_by_role("listitem")
    expect(incoming).to_have_count(1)
    expect(incoming).to_contain_text("an Nicole Steingaß")
    incoming.get_by_role("button", name="Auf Sendung").click()
    expect(moderator.get_by_role("region", name="Auf Sendung")).to_contain_text("Verwaltungsdigitalisierung")

    presenter = pages.open()
    presenter.context.add_cookies(moderator.context.cookies())
    presenter.goto(f"{shared_server.url}/e/{SLUG}/present")
    moderator.get_by_role("radio", name="Die Frage auf Sendung").check()
    expect(presenter.get_by_text("Frage aus dem Publikum · an Nicole Steingaß")).to_have_count(0)
    expect(presenter.locator("[data-question-name]")).to_have_text("Anonym · an Nicole Steingaß")
