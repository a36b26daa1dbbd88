"""The agenda during the event: the moderator marks the item on now, every page follows it live, and the
presenter screen counts down the time left in it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from browsing import Pages, expect_live, log_in_and_moderate
from fixtures import SLUG, Server, Viewer, bearer, csrf_of
from playwright.sync_api import expect


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def mark(moderator: Viewer, item_id: int | None) -> dict[str, Any]:
    response = moderator.http.put(f"/api/events/{SLUG}/agenda/current", json={"item_id": item_id})
    assert response.status_code == 200, response.text
    return response.json()


def agenda(who: Viewer) -> list[dict[str, Any]]:
    return who.http.get(f"/api/events/{SLUG}").json()["agenda"]


def test_marking_the_current_item_reaches_viewers_and_keeps_its_start(
    viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    audience = viewer()
    live = audience.ws()
    assert live.recv()["type"] == "snapshot"
    discussion = next(item for item in agenda(audience) if item["title"].startswith("Ihre Fragen an das Podium"))

    marked = mark(moderator, discussion["id"])
    assert marked["item_id"] == discussion["id"]
    event = live.recv_until(lambda m: m["type"] == "event")[-1]["event"]
    assert event["current_agenda"] == {"item_id": discussion["id"], "started_at": marked["started_at"]}
    # Pressing "Jetzt" again does not restart the item's clock, and tells nobody anything new.
    assert mark(moderator, discussion["id"])["started_at"] == marked["started_at"]

    assert mark(moderator, None) == {"item_id": None, "started_at": None}
    event = live.recv_until(lambda m: m["type"] == "event")[-1]["event"]
    assert event["current_agenda"] is None
    assert [m["type"] for m in live.received].count("event") == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"item_id": 999_999}, 404, "agenda_item_not_found"),
        ({"item_id": "eins"}, 422, "invalid"),
        ({"item_id": True}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"item_id": None, "extra": 1}, 422, "invalid"),
    ],
)
def test_bad_marks_are_refused(moderator: Viewer, body: dict[str, Any], status: int, code: str) -> None:
    response = moderator.http.put(f"/api/events/{SLUG}/agenda/current", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_only_moderators_mark_the_agenda(viewer: Callable[..., Viewer]) -> None:
    audience = viewer()
    item = agenda(audience)[0]
    response = audience.http.put(f"/api/events/{SLUG}/agenda/current", json={"item_id": item["id"]})
    assert response.status_code == 401


def planned_now(items: list[dict[str, Any]]) -> str | None:
    """The title of the item whose planned time covers now (what the pages show while nothing is marked)."""
    now = datetime.now(UTC)
    for item in items:
        if not item.get("starts_at") or not item.get("duration_minutes"):
            continue
        start = datetime.fromisoformat(item["starts_at"].replace("Z", "+00:00"))
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if start <= now < start + timedelta(minutes=item["duration_minutes"]):
            return str(item["title"])
    return None


@pytest.mark.browser
def test_the_moderator_marks_an_item_and_viewer_and_presenter_follow(
    pages: Pages,
    shared_server: Server,
    shared_moderator_credentials: tuple[str, str],
    moderator: Viewer,
) -> None:
    mark(moderator, None)
    viewer_page = pages.open(f"{shared_server.url}/e/{SLUG}")
    expect_live(viewer_page)
    viewer_page.locator("[data-agenda] summary").click()  # "Ablauf", and what is on now by the plan
    moderator_page = log_in_and_moderate(pages, shared_server, SLUG, shared_moderator_credentials)
    presenter = pages.open()  # the host's screen, logged in as the same moderator
    presenter.context.add_cookies(moderator_page.context.cookies())
    presenter.goto(f"{shared_server.url}/e/{SLUG}/present")

    panel = moderator_page.get_by_role("region", name="Ablauf")
    # Nothing marked: the demo is live, so the panel counts down the item the plan says is on, and the one
    # button that moves on starts the programme at its first item.
    start = panel.get_by_role("button", name="Start: Begrüßung")
    expect(start).to_be_visible()
    start.click()
    expect(panel).to_contain_text(re.compile(r"Noch \d+ Min: Begrüßung"))
    panel.get_by_role("button", name="Weiter: Film: Smart City Kaiserslautern").click()
    expect(panel).to_contain_text(re.compile(r"Noch \d+ Min: Film: Smart City Kaiserslautern"))
    panel.get_by_text("Ganzer Ablauf").click()
    button = panel.get_by_role("button", name="Jetzt: Ihre Fragen an das Podium", exact=False)
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(panel.get_by_role("status")).to_have_text(re.compile(r"^Jetzt läuft: Ihre Fragen an das Podium"))
    expect(panel).to_contain_text(re.compile(r"Noch \d+ Min: Ihre Fragen an das Podium"))

    current = viewer_page.locator("li[aria-current='true']")
    expect(current).to_contain_text("Ihre Fragen an das Podium")
    expect(current).to_contain_text("Jetzt")
    expect(viewer_page.get_by_text(re.compile(r"Ablauf – jetzt: Ihre Fragen an das Podium"))).to_be_visible()
    expect(presenter.get_by_text(re.compile(r"Noch \d+ Min: Ihre Fragen an das Podium"))).to_be_visible()

    button.click()  # pressed again: nothing is marked any more, so the viewer follows the plan again
    expect(button).to_have_attribute("aria-pressed", "false")
    marked = viewer_page.locator("li[aria-current='true']")
    planned = planned_now(agenda(moderator))
    if planned is None:
        expect(marked).to_have_count(0)
    else:  # the demo is live: the item whose planned time covers now
        expect(marked).to_have_count(1)
        expect(marked).to_contain_text(planned)


@pytest.mark.browser
def test_an_agenda_item_added_during_the_event_appears_without_a_reload(
    pages: Pages, shared_server: Server, shared_admin: httpx.Client
) -> None:
    page = pages.open(f"{shared_server.url}/e/{SLUG}")
    expect_live(page)
    page.evaluate("window.__notReloaded = true")
    page.locator("[data-agenda] summary").click()  # "Ablauf", and what is on now by the plan
    fields = {"title": "Zusatz: Fragen aus Trier", "speakers": "", "kind": "questions", "starts_at": "2021-01-19T18:50"}
    csrf = csrf_of(shared_admin, f"/admin/events/{SLUG}")
    response = shared_admin.post(f"/admin/events/{SLUG}/agenda", data={**fields, "csrf": csrf})
    assert response.status_code == 303, response.text
    added = page.locator("[data-agenda-list] li").filter(has_text="Zusatz: Fragen aus Trier")
    expect(added).to_contain_text("18:50")
    expect(page.locator("[data-agenda-list] li").last).to_contain_text("Ausblick und Verabschiedung")
    assert page.evaluate("window.__notReloaded === true")
