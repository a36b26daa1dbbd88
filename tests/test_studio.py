"""The studio side over real HTTP and websockets: screen control, studio links, join codes and the QR code."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fixtures import SLUG, Server, Viewer, bearer, create_event
from playwright.sync_api import Browser, sync_playwright

SCREEN = f"/api/events/{SLUG}/screen"
LINKS = f"/api/events/{SLUG}/studio-links"
ALPHABET = set("ACDEFHJKMNPQRTUVWXY3479")


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    return viewer(headers=bearer(shared_moderator_token))


def studio_link(moderator: Viewer, view: str, slug: str = SLUG) -> dict[str, Any]:
    response = moderator.http.post(f"/api/events/{slug}/studio-links", json={"view": view, "label": "Studio"})
    assert response.status_code == 201, response.text
    return response.json()


def token_of(link: dict[str, Any]) -> str:
    match = re.search(r"token=(srs_[A-Za-z0-9_-]+)$", link["url"])
    assert match, link["url"]
    return match.group(1)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# ---------------------------------------------------------------- screen control


def test_screen_modes_are_broadcast_to_everyone(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    socket = viewer().ws()
    socket.recv()
    for body in ({"mode": "join"}, {"mode": "question"}, {"mode": "none"}):
        response = moderator.http.put(SCREEN, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"mode": body["mode"], "poll_id": None, "pinned": False}
        message = socket.recv_until(lambda m: m["type"] == "screen")[-1]
        assert message["screen"] == {"mode": body["mode"], "poll_id": None, "pinned": False}
        assert isinstance(message["seq"], int)
    assert moderator.http.get(f"/api/events/{SLUG}").json()["screen"]["mode"] == "none"


def test_screen_shows_a_launched_poll_only(moderator: Viewer) -> None:
    poll = moderator.http.post(f"/api/events/{SLUG}/polls", json={"title": "Wie digital?", "kind": "rating"}).json()
    response = moderator.http.put(SCREEN, json={"mode": "poll", "poll_id": poll["id"]})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "poll_not_launched"
    moderator.http.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"})
    response = moderator.http.put(SCREEN, json={"mode": "poll", "poll_id": poll["id"]})
    assert response.json() == {"mode": "poll", "poll_id": poll["id"], "pinned": False}
    assert moderator.http.put(SCREEN, json={"mode": "poll", "poll_id": 999999}).status_code == 404
    for bad in ({"mode": "poll"}, {"mode": "video"}, {}, {"mode": "join", "colour": "red"}):
        assert moderator.http.put(SCREEN, json=bad).status_code == 422, bad


def test_only_moderators_control_the_screen(viewer: Callable[..., Viewer]) -> None:
    assert viewer().http.put(SCREEN, json={"mode": "join"}).status_code == 401


# ---------------------------------------------------------------- studio links


@pytest.mark.parametrize("view", ["present", "overlay"])
def test_studio_views_need_a_valid_link(shared_server: Server, moderator: Viewer, view: str) -> None:
    link = studio_link(moderator, view)
    assert link["view"] == view
    assert link["url"].startswith(shared_server.url)
    token = token_of(link)
    assert len(token) > 40
    with shared_server.client() as anonymous:
        assert anonymous.get(f"/e/{SLUG}/{view}").status_code == 403
        assert anonymous.get(f"/e/{SLUG}/{view}", params={"token": "srs_wrong"}).status_code == 403
        page = anonymous.get(path_of(link["url"]))
        assert page.status_code == 200, page.text
        assert "text/html" in page.headers["content-type"]
        other_view = "overlay" if view == "present" else "present"
        assert anonymous.get(f"/e/{SLUG}/{other_view}", params={"token": token}).status_code == 403
    listed = moderator.http.get(LINKS).json()["links"]
    assert any(item["id"] == link["id"] and "url" not in item and "token" not in str(item) for item in listed)


def test_a_link_is_for_one_event_only(shared_server: Server, moderator: Viewer) -> None:
    create_event(shared_server, "kreistag", "Kreistag live")
    link = studio_link(moderator, "present")
    with shared_server.client() as anonymous:
        response = anonymous.get("/e/kreistag/present", params={"token": token_of(link)})
        assert response.status_code == 403


def test_a_revoked_link_stops_working(shared_server: Server, moderator: Viewer) -> None:
    link = studio_link(moderator, "overlay")
    with shared_server.client() as anonymous:
        assert anonymous.get(path_of(link["url"])).status_code == 200
        assert moderator.http.delete(f"{LINKS}/{link['id']}").status_code == 204
        assert anonymous.get(path_of(link["url"])).status_code == 403
    listed = {item["id"]: item for item in moderator.http.get(LINKS).json()["links"]}
    assert listed[link["id"]]["revoked_at"]
    assert moderator.http.delete(f"{LINKS}/999999").status_code == 404


def test_moderators_open_studio_views_with_their_session(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    assert moderator.http.get(f"/e/{SLUG}/present").status_code == 200
    assert viewer().http.get(f"/e/{SLUG}/present").status_code == 403


def test_only_moderators_make_links(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    assert viewer().http.post(LINKS, json={"view": "present"}).status_code == 401
    response = moderator.http.post(LINKS, json={"view": "control-room"})
    assert response.status_code == 422


def test_studio_socket_sees_hidden_results_but_no_pending_questions(
    viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    link = studio_link(moderator, "present")
    body = {"title": "Geheim bis zum Schluss", "kind": "rating", "results_visibility": "never"}
    poll = moderator.http.post(f"/api/events/{SLUG}/polls", json=body).json()
    moderator.http.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"})
    studio_socket = viewer().ws(slug=f"{SLUG}?studio={token_of(link)}")
    snapshot = studio_socket.recv()
    assert snapshot["role"] == "studio"
    assert "results" in next(p for p in snapshot["polls"] if p["id"] == poll["id"])
    asker = viewer()
    asker.ask("Eine Frage, die noch wartet")
    voter = viewer()
    response = voter.http.post(f"/api/events/{SLUG}/polls/{poll['id']}/votes", json={"value": 3})
    assert response.status_code == 201
    messages = studio_socket.recv_until(lambda m: m["type"] == "poll_results" and m["poll_id"] == poll["id"])
    assert not any(m["type"] == "question" for m in messages)


# ---------------------------------------------------------------- joining


def test_every_event_has_a_join_code_from_the_alphabet(shared_server: Server, moderator: Viewer) -> None:
    create_event(shared_server, "stadtrat", "Stadtrat live")
    codes = []
    for slug in (SLUG, "stadtrat"):
        code = moderator.http.get(f"/api/events/{slug}").json()["join_code"]
        assert len(code) == 6
        assert set(code) <= ALPHABET
        codes.append(code)
    assert len(set(codes)) == 2


def test_join_code_leads_to_the_phone_view(viewer: Callable[..., Viewer]) -> None:
    device = viewer()
    code = device.http.get(f"/api/events/{SLUG}").json()["join_code"]
    typed = f" {code[:3].lower()}-{code[3:].lower()} "
    response = device.http.get("/join", params={"code": typed})
    assert response.status_code == 303
    assert response.headers["location"] == f"/e/{SLUG}/mitmachen"
    response = device.http.get(f"/j/{code.lower()}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/e/{SLUG}/mitmachen"
    page = device.http.get(f"/e/{SLUG}/mitmachen")
    assert page.status_code == 200
    assert "youtube-nocookie" not in page.text


def test_unknown_join_codes_are_404_with_the_form(viewer: Callable[..., Viewer]) -> None:
    device = viewer()
    assert device.http.get("/join").status_code == 200
    response = device.http.get("/join", params={"code": "ZZZZZZ"})
    assert response.status_code == 404
    assert "keine Veranstaltung" in response.text
    assert device.http.get("/j/<script>").status_code == 404


# ---------------------------------------------------------------- the QR code


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.mark.browser
def test_qr_code_decodes_to_the_join_address(tmp_path: Any, browser: Browser) -> None:
    import zxingcpp
    from PIL import Image

    server = Server(tmp_path, env={"SMARTRLP_PUBLIC_URL": "https://live.example.de/"}).start()
    try:
        with server.client() as client:
            code = client.get(f"/api/events/{SLUG}").json()["join_code"]
            response = client.get(f"/e/{SLUG}/qr.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        page = browser.new_page(viewport={"width": 600, "height": 600})
        page.goto(f"{server.url}/e/{SLUG}/qr.svg")
        image = Image.open(io.BytesIO(page.screenshot()))
        decoded = [result.text for result in zxingcpp.read_barcodes(image)]
        assert decoded == [f"https://live.example.de/j/{code}"]
        page.close()
    finally:
        server.stop()
