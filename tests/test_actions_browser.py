"""The viewer page sends its actions over the open websocket, and over HTTP while the websocket is down.

The page's requests are watched (Playwright sees every HTTP request and every websocket frame): with the socket
open, asking, upvoting, answering a poll and reporting send no HTTP request; with the socket cut (its connections
closed and new ones refused), the same actions go over HTTP, and the viewer sees the same confirmations either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from browsing import Pages, expect_live, new_event
from fixtures import Server, Viewer, bearer
from playwright.sync_api import Page, Request, WebSocketRoute, expect

pytestmark = pytest.mark.browser

ACTION_PATHS = re.compile(r"/api/events/[^/]+/(questions(/\d+/(votes|reports))?|polls/\d+/votes)$")


class Switch:
    """The page's websocket through Playwright: passed to the server while on, closed and refused while off."""

    def __init__(self) -> None:
        self.on = True
        self.open: list[WebSocketRoute] = []
        self.sent: list[dict[str, Any]] = []  # the page's frames, decoded

    def route(self, ws: WebSocketRoute) -> None:
        if not self.on:
            ws.close(code=1011, reason="test: websocket down")
            return
        server = ws.connect_to_server()
        self.open.append(ws)

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str):
                self.sent.append(json.loads(message))
            server.send(message)

        ws.on_message(from_page)

    def cut(self) -> None:
        self.on = False
        for ws in self.open:
            ws.close(code=1011, reason="test: websocket down")
        self.open.clear()


def action_requests(page: Page) -> list[str]:
    seen: list[str] = []

    def note(request: Request) -> None:
        if request.method in {"POST", "DELETE"} and ACTION_PATHS.search(request.url):
            address = request.url.split("/api/events/", 1)[1].split("/", 1)[1]
            seen.append(f"{request.method} {re.sub(r'[0-9]+', 'N', address)}")

    page.on("request", note)
    return seen


def open_poll(staff: Viewer, slug: str, title: str) -> None:
    response = staff.http.post(
        f"/api/events/{slug}/polls", json={"title": title, "kind": "single", "options": ["Bus", "Rad", "Auto"]}
    )
    assert response.status_code == 201, response.text
    patch = staff.http.patch(f"/api/events/{slug}/polls/{response.json()['id']}", json={"state": "open"})
    assert patch.status_code == 200, patch.text


def test_actions_go_over_the_websocket_while_open_and_over_http_while_it_is_down(
    pages: Pages, shared_server: Server, viewer: Callable[..., Viewer], shared_moderator_token: str
) -> None:
    staff = viewer(headers=bearer(shared_moderator_token))
    slug = new_event(shared_server, "Mobilität 2030", prefix="actions")
    questions = []
    for text in ("Wann fährt der Bus öfter?", "Gibt es mehr Radwege?", "Was kostet das Parken?"):
        question = viewer().ask(text, slug=slug)
        staff.moderate(question["id"], slug=slug, status="approved")
        questions.append(question)
    switch = Switch()
    page = pages.open()
    page.route_web_socket(re.compile(r"/ws/events/"), switch.route)
    http_actions = action_requests(page)
    page.goto(f"{shared_server.url}/e/{slug}")
    expect_live(page)
    public = page.locator("[data-public-list] li")

    # Open: every action is a websocket message, answered with a reply; no HTTP request.
    page.get_by_label("Ihre Frage").fill("Kommt die Straßenbahn bis ins Neubaugebiet?")
    page.get_by_role("button", name="Frage senden", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Danke! Ihre Frage ist angekommen.")).to_be_visible()
    expect(page.get_by_label("Ihre Frage")).to_have_value("")
    first = public.filter(has_text=questions[0]["text"])
    first.get_by_role("button", name=re.compile(r"^Frage unterstützen")).click()
    expect(first.get_by_role("button", name=re.compile(r"^Sie unterstützen diese Frage"))).to_have_text(
        re.compile(r"1$")
    )
    open_poll(staff, slug, "Wie kommen Sie in die Stadt?")
    poll = page.locator("li.poll-card")
    poll.get_by_role("button", name=re.compile(r"^Bus")).click()
    expect(poll).to_contain_text("Ihre Antwort wurde gezählt.")
    assert http_actions == []
    assert [m["type"] for m in switch.sent if m["type"] not in {"ping", "react"}] == ["ask", "upvote", "ballot"]
    assert all(isinstance(m["ref"], str) for m in switch.sent if m["type"] != "ping")

    # Down: the same actions go over HTTP and look the same to the viewer.
    switch.cut()
    expect(page.get_by_role("status").filter(has_text="Verbindung unterbrochen")).to_be_visible()
    second = public.filter(has_text=questions[1]["text"])
    second.get_by_role("button", name=re.compile(r"^Frage unterstützen")).click()
    expect(second.get_by_role("button", name=re.compile(r"^Sie unterstützen diese Frage"))).to_have_text(
        re.compile(r"1$")
    )
    poll.get_by_role("button", name=re.compile(r"^Rad")).click()
    expect(poll).to_contain_text("Ihre geänderte Antwort wurde gezählt.")
    third = public.filter(has_text=questions[2]["text"])
    third.get_by_role("button", name=re.compile("^Melden")).click()
    third.get_by_role("radio", name="Spam").check()
    third.get_by_role("button", name="Melden", exact=True).click()
    expect(third.get_by_text("Gemeldet")).to_be_visible()
    page.get_by_label("Ihre Frage").fill("Und nachts?")
    page.get_by_role("button", name="Frage senden", exact=True).click()
    # Answered (the thanks are still shown from the first question): the form is emptied, the question is mine.
    expect(page.get_by_label("Ihre Frage")).to_have_value("")
    expect(page.get_by_role("region", name="Meine Fragen", exact=True)).to_contain_text("Und nachts?")
    assert http_actions == [
        "POST questions/N/votes",
        "POST polls/N/votes",
        "POST questions/N/reports",
        "POST questions",
    ]

    # Everything arrived once, whichever way it went.
    listed = {q["text"]: q for q in staff.questions(slug=slug)}
    assert {"Kommt die Straßenbahn bis ins Neubaugebiet?", "Und nachts?"} <= set(listed)
    assert [listed[q["text"]]["votes"] for q in questions] == [1, 1, 0]
    polls = staff.http.get(f"/api/events/{slug}/polls").json()["polls"]
    assert polls[0]["results"]["total"] == 1

    # Back on: the page is live again by itself and uses the websocket again.
    switch.on = True
    expect_live(page, timeout=30_000)
    before = len(http_actions)
    third.get_by_role("button", name=re.compile(r"^Frage unterstützen")).click()
    expect(third.get_by_role("button", name=re.compile(r"^Sie unterstützen diese Frage"))).to_have_text(
        re.compile(r"1$")
    )
    assert len(http_actions) == before
    assert switch.sent[-1]["type"] == "upvote"
