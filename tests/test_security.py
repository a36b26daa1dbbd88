"""Attacks on a public livestream and the defences against them, each tried against the real server.

Three servers, one per configuration:
- `guarded`: tight limits so that each one is reached in a few requests; it trusts 127.0.0.1 as its reverse proxy,
  so that `X-Forwarded-For` gives each test an address of its own (as a proxy would for different visitors; clients
  without one share 127.0.0.1 and its six new devices);
  an allowed partner origin, an overlay that a studio site may frame, short login locks.
- `town_hall`: the shipped limits (one changed, see there), trusting no proxy: everybody is 127.0.0.1, as a school
  class or a town hall behind one NAT address would be.
- `short_sessions`: moderator sessions that end after a moment of idleness or a few seconds in all.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import (
    SLUG,
    LiveSocket,
    Server,
    Viewer,
    add_moderator,
    bearer,
    create_token,
    login,
    wait_until,
)
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from smartrlp.core.limits import Limiter, RateLimited

QUESTIONS = f"/api/events/{SLUG}/questions"
PARTNER = "https://partner.example"
STUDIO_SITE = "https://studio.example"
LOGIN_LOCK_SECONDS = 8

GUARDED_LIMITS = ",".join(
    [
        "question_device=2/1h",
        "question_address=5/1h",
        "vote_device=3/1h",
        "ballot_device=2/1h",
        "reaction_device=2/1h",
        "device_address=6/1h",
        f"login_account=4/{LOGIN_LOCK_SECONDS}s",
        "ws_address=2",
        "ws_messages=5/1h",
    ]
)


def _serve(directory: Path, env: dict[str, str]) -> Iterator[Server]:
    server = Server(directory, env=env).start()
    try:
        yield server
    finally:
        server.stop()
    server.assert_clean_log()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "SMARTRLP_LIMITS": GUARDED_LIMITS,
        "SMARTRLP_TRUSTED_PROXIES": "127.0.0.1",
        "SMARTRLP_ALLOWED_ORIGINS": PARTNER,
        "SMARTRLP_OVERLAY_FRAME_ANCESTORS": STUDIO_SITE,
    }
    yield from _serve(tmp_path_factory.mktemp("guarded"), env)


@pytest.fixture(scope="module")
def town_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The shipped limits, except questions per address, lowered from 200 to 35 so that the test can reach it.
    yield from _serve(tmp_path_factory.mktemp("town-hall"), {"SMARTRLP_LIMITS": "question_address=35/1h"})


@pytest.fixture(scope="module")
def short_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"SMARTRLP_SESSION_IDLE_MINUTES": "1.5s", "SMARTRLP_SESSION_HOURS": "4s"}
    yield from _serve(tmp_path_factory.mktemp("short-sessions"), env)


_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def new_address() -> str:
    return next(_addresses)


@pytest.fixture
def devices() -> Iterator[Any]:
    """`devices(server, address=None, n=1)`: viewers, each its own device, from one (forwarded) address."""
    with contextlib.ExitStack() as stack:

        def make(server: Server, address: str | None = None, n: int = 1) -> list[Viewer]:
            headers = {"X-Forwarded-For": address} if address else {}
            return [Viewer(server, stack, headers=headers) for _ in range(n)]

        yield make


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


def staff(server: Server, stack: contextlib.ExitStack, name: str) -> Viewer:
    add_moderator(server, name, f"{name} hat ein langes Passwort")
    return Viewer(server, stack, headers={**bearer(create_token(server, name)), "X-Forwarded-For": "192.0.2.250"})


# ---------------------------------------------------------------- limits


def test_each_viewer_limit_answers_429_while_others_keep_going(guarded: Server, devices: Any) -> None:
    with contextlib.ExitStack() as stack:
        moderator = staff(guarded, stack, "limits")
        home = new_address()
        first, second, third, fourth = devices(guarded, home, n=4)
        # Questions: two per device, then the device waits; the address allows five in all.
        asked = [first.ask(f"Frage {n}") for n in range(2)]
        assert_rate_limited(first.http.post(QUESTIONS, json={"text": "Noch eine"}))
        second.ask("Frage 3")
        second.ask("Frage 4")
        third.ask("Frage 5")
        assert_rate_limited(fourth.http.post(QUESTIONS, json={"text": "Die sechste aus dem Haus"}))
        devices(guarded, new_address())[0].ask("Von nebenan geht es weiter")

        # Upvotes: three requests per device (repeats count: they cost the server the same).
        moderator.moderate(asked[0]["id"], status="approved")
        votes = f"{QUESTIONS}/{asked[0]['id']}/votes"
        for _ in range(3):
            assert fourth.http.post(votes).status_code == 200
        assert_rate_limited(fourth.http.post(votes))
        assert third.http.post(votes).status_code == 200

        # Ballots: two per device.
        poll = moderator.http.post(
            f"/api/events/{SLUG}/polls", json={"title": "Wie?", "kind": "rating", "results_visibility": "live"}
        ).json()
        assert moderator.http.patch(f"/api/events/{SLUG}/polls/{poll['id']}", json={"state": "open"}).status_code == 200
        ballots = f"/api/events/{SLUG}/polls/{poll['id']}/votes"
        for value in (1, 2):
            assert fourth.http.post(ballots, json={"value": value}).status_code == 201
        assert_rate_limited(fourth.http.post(ballots, json={"value": 3}))
        assert third.http.post(ballots, json={"value": 4}).status_code == 201

        # Reactions over HTTP: two per device.
        reactions = f"/api/events/{SLUG}/reactions"
        for _ in range(2):
            assert fourth.http.post(reactions, json={"kind": "heart"}).status_code == 202
        assert_rate_limited(fourth.http.post(reactions, json={"kind": "heart"}))
        assert third.http.post(reactions, json={"kind": "heart"}).status_code == 202


def test_new_devices_per_address_are_limited(guarded: Server) -> None:
    address = new_address()
    headers = {"X-Forwarded-For": address}
    for _ in range(6):
        with guarded.client(headers=headers) as fresh:
            assert fresh.get(f"/api/events/{SLUG}").cookies.get("srl_device")
    with guarded.client(headers=headers) as fresh:
        assert_rate_limited(fresh.get(f"/api/events/{SLUG}"))
        page = fresh.get(f"/e/{SLUG}")
        assert page.status_code == 429
        assert "Retry-After" in page.headers
        assert "sehr viele neue Besucher" in page.text
        health = fresh.get("/healthz")  # still answered, only without a new device
        assert health.status_code == 200
        assert "srl_device" not in health.cookies
    with guarded.client(headers={"X-Forwarded-For": new_address()}) as elsewhere:
        assert elsewhere.get(f"/api/events/{SLUG}").cookies.get("srl_device")


def test_a_class_of_30_behind_one_address_can_all_ask_and_vote(town_hall: Server, devices: Any) -> None:
    with contextlib.ExitStack() as stack:
        moderator = staff(town_hall, stack, "klassenlehrerin")
        pupils = devices(town_hall, n=30)
        asked = [pupil.ask(f"Frage von Kind {n}") for n, pupil in enumerate(pupils)]
        favourites = [q["id"] for q in asked[:3]]
        for question_id in favourites:
            moderator.moderate(question_id, status="approved")
        for pupil in pupils:
            for question_id in favourites:
                assert pupil.http.post(f"{QUESTIONS}/{question_id}/votes").status_code == 200
        assert {q["id"]: q["votes"] for q in pupils[0].questions() if q["id"] in favourites} == dict.fromkeys(
            favourites, 30
        )
        # X-Forwarded-For from a peer that is not a trusted proxy changes nothing: the address is still 127.0.0.1,
        # whose budget (lowered to 35 questions for this test) runs out however the header is varied.
        spoofers = devices(town_hall, n=2)
        for n in range(5):
            response = spoofers[n % 2].http.post(
                QUESTIONS, json={"text": f"Gefälscht {n}"}, headers={"X-Forwarded-For": new_address()}
            )
            assert response.status_code == 201, response.text
        assert_rate_limited(
            spoofers[0].http.post(QUESTIONS, json={"text": "Zu viel"}, headers={"X-Forwarded-For": new_address()})
        )
        assert "ignoring X-Forwarded-For" in town_hall.log()


# ---------------------------------------------------------------- websockets


def ws_url(server: Server) -> str:
    return f"{server.ws_url}/ws/events/{SLUG}"


def test_websocket_origin_connections_and_messages(guarded: Server) -> None:
    own_origin = f"http://127.0.0.1:{guarded.port}"
    # Cross-site websocket hijacking: a page elsewhere opening the socket with the visitor's cookies is refused.
    for foreign in ("https://evil.example", "null", f"http://localhost:{guarded.port}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(guarded), additional_headers={"Origin": foreign}, open_timeout=10)
        assert refused.value.response.status_code == 403
    for origin in (own_origin, PARTNER):
        headers = {"Origin": origin, "X-Forwarded-For": new_address()}
        with connect(ws_url(guarded), additional_headers=headers, open_timeout=10) as ok:
            assert LiveSocket(ok).recv()["type"] == "snapshot"

    # Two connections at once per address; the third is closed with 4029, another address still connects.
    crowded = {"Origin": own_origin, "X-Forwarded-For": new_address()}
    with contextlib.ExitStack() as stack:
        sockets = [
            LiveSocket(stack.enter_context(connect(ws_url(guarded), additional_headers=crowded, open_timeout=10)))
            for _ in range(2)
        ]
        for socket in sockets:
            assert socket.recv()["type"] == "snapshot"
        with connect(ws_url(guarded), additional_headers=crowded, open_timeout=10) as third:
            assert LiveSocket(third).wait_closed() == 4029

        # Five messages per connection; then an error, once, and the messages are dropped.
        first = sockets[0]
        for _ in range(5):
            first.send({"type": "ping"})
            first.recv_until(lambda m: m["type"] == "pong")
        for _ in range(3):
            first.send({"type": "ping"})
        error = first.recv_until(lambda m: m["type"] in {"error", "pong"})[-1]
        assert error["type"] == "error"
        assert error["code"] == "rate_limited"
        assert error["retry_after"] >= 1
        sockets[1].send({"type": "ping"})
        sockets[1].recv_until(lambda m: m["type"] == "pong")  # the other connection is not affected
    with connect(ws_url(guarded), additional_headers=crowded, open_timeout=10) as again:
        assert LiveSocket(again).recv()["type"] == "snapshot"  # closed connections no longer count
    assert "WebSocket /ws/events" not in guarded.log()  # no visitor addresses in the log (SMARTRLP_ACCESS_LOG off)

    # A frame over 16 KiB is not even read: the server closes with 1009.
    big = {"Origin": own_origin, "X-Forwarded-For": new_address()}
    with connect(ws_url(guarded), additional_headers=big, open_timeout=10, max_size=None) as socket:
        live = LiveSocket(socket)
        live.recv()
        socket.send("x" * 20_000)
        assert live.wait_closed() == 1009


# ---------------------------------------------------------------- cross-site requests and CSRF


def test_csrf_and_origin_checks(guarded: Server, devices: Any) -> None:
    add_moderator(guarded, "csrf", "csrf hat ein langes Passwort")
    token = create_token(guarded, "csrf")
    asker = devices(guarded, new_address())[0]
    question = asker.ask("Ist das hier sicher?")
    own_origin = f"http://127.0.0.1:{guarded.port}"
    with contextlib.closing(login(guarded, "csrf", "csrf hat ein langes Passwort")) as moderator:
        csrf = moderator.headers.pop("X-CSRF-Token")
        path = f"{QUESTIONS}/{question['id']}"
        refused = moderator.patch(path, json={"status": "approved"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf"
        assert "X-CSRF-Token" in refused.json()["error"]["message"]
        wrong = moderator.patch(path, json={"status": "approved"}, headers={"X-CSRF-Token": "guessed"})
        assert wrong.status_code == 403
        ok = moderator.patch(path, json={"status": "approved"}, headers={"X-CSRF-Token": csrf, "Origin": own_origin})
        assert ok.status_code == 200, ok.text
        # The token does not help a page on another site: its Origin gives it away.
        foreign = moderator.patch(
            path, json={"status": "rejected"}, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert foreign.json()["error"]["code"] == "cross_site"
        fetched = moderator.patch(
            path, json={"status": "rejected"}, headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}
        )
        assert fetched.status_code == 403
        # A cross-site form posting to the logout (or any form) is refused with a page, and changes nothing.
        form = moderator.post("/logout", headers={"Origin": "https://evil.example"})
        assert form.status_code == 403
        assert "text/html" in form.headers["content-type"]
        assert moderator.get(f"/api/events/{SLUG}/studio-links").status_code == 200
    # Bearer tokens are not sent by browsers on their own: no CSRF token needed, and no Origin check.
    with guarded.client(headers={**bearer(token), "X-Forwarded-For": new_address()}) as script:
        response = script.patch(path, json={"status": "answered"}, headers={"Origin": "https://dashboard.example"})
        assert response.status_code == 200, response.text
        assert "access-control-allow-origin" not in response.headers  # no CORS unless configured
    # Viewer actions (device cookie) from another site are refused; from this site and the partner they work.
    assert (
        asker.http.post(
            QUESTIONS, json={"text": "Von woanders"}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert asker.http.post(QUESTIONS, json={"text": "Von hier"}, headers={"Origin": own_origin}).status_code == 201


def test_token_list_and_revoke(guarded: Server) -> None:
    add_moderator(guarded, "skript", "skript hat ein langes Passwort")
    token = guarded.cli("token", "create", "skript", "--label", "Wahlkreis-Dashboard").stdout.strip().splitlines()[-1]
    with guarded.client(headers={**bearer(token), "X-Forwarded-For": new_address()}) as script:
        assert script.get(f"/api/events/{SLUG}/studio-links").status_code == 200
    listing = guarded.cli("token", "list", "skript").stdout
    assert "Wahlkreis-Dashboard" in listing
    assert token not in listing
    line = next(row for row in listing.splitlines() if "Wahlkreis-Dashboard" in row)
    token_id = line.split("\t")[0]
    assert "nie" not in line.split("\t")[4]  # last use is recorded
    revoked = guarded.cli("token", "revoke", token_id)
    assert "widerrufen" in revoked.stdout
    with guarded.client(headers={**bearer(token), "X-Forwarded-For": new_address()}) as script:
        response = script.get(f"/api/events/{SLUG}/studio-links")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert "Wahlkreis-Dashboard" in guarded.cli("token", "list", "--all").stdout  # listed as revoked
    again = guarded.cli("token", "revoke", token_id, check=False)
    assert again.returncode == 2
    assert "revoked already" in again.stderr


# ---------------------------------------------------------------- logins and sessions


def test_login_slows_then_locks_then_lets_the_real_user_in(guarded: Server) -> None:
    add_moderator(guarded, "drossel", "das richtige Passwort")
    # The same sequence for an existing and a made-up name: the answers must not tell them apart.
    names = ("drossel", "gibt-es-nicht")
    with guarded.client(headers={"X-Forwarded-For": new_address()}) as client:

        def attempt(name: str, password: str = "falsch geraten!") -> httpx.Response:
            return client.post("/login", data={"name": name, "password": password, "next": "/"})

        for name in names:
            answers = [attempt(name) for _ in range(3)]
            assert [a.status_code for a in answers] == [401, 401, 401]
            # From the third failure on, the next attempt must wait (1 s, then 2, 4 ...).
            assert [a.headers.get("Retry-After") for a in answers] == [None, None, "1"]
        for name in names:
            # The fourth failure locks the name for the period, even for the right password.
            fourth = wait_until(lambda n=name: (r := attempt(n)).status_code != 429 and r, timeout=10)
            assert fourth.status_code == 401
            assert fourth.headers["Retry-After"] == str(LOGIN_LOCK_SECONDS)
        for name in names:
            locked = attempt(name, "das richtige Passwort")
            assert locked.status_code == 429
            assert 1 <= int(locked.headers["Retry-After"]) <= LOGIN_LOCK_SECONDS
            assert "Zu viele Fehlversuche" in locked.text
        assert "srl_session" not in client.cookies
        # Once the lock is over, the real user gets in.
        success = wait_until(
            lambda: (r := attempt("drossel", "das richtige Passwort")).status_code == 303 and r,
            timeout=LOGIN_LOCK_SECONDS + 10,
            interval=0.25,
        )
        assert success.cookies.get("srl_session")


def test_logout_ends_the_session_on_the_server(guarded: Server) -> None:
    add_moderator(guarded, "abmelden", "abmelden hat ein langes Passwort")
    with contextlib.closing(login(guarded, "abmelden", "abmelden hat ein langes Passwort")) as moderator:
        cookie = moderator.cookies.get("srl_session")
        set_cookie = moderator.post("/logout").headers["set-cookie"]
        assert "srl_session=" in set_cookie
        assert "Max-Age=0" in set_cookie
    with guarded.client(cookies={"srl_session": cookie}, headers={"X-Forwarded-For": new_address()}) as thief:
        assert thief.get(f"/api/events/{SLUG}/studio-links").status_code == 401


def test_sessions_end_when_idle_and_after_their_lifetime(short_sessions: Server) -> None:
    add_moderator(short_sessions, "kurz", "kurz hat ein langes Passwort")
    links = f"/api/events/{SLUG}/studio-links"
    with contextlib.closing(login(short_sessions, "kurz", "kurz hat ein langes Passwort")) as idle:
        assert idle.get(links).status_code == 200
        # Polled less often than the idle limit (1.5 s): the pause itself ends the session.
        wait_until(lambda: idle.get(links).status_code == 401, timeout=6, interval=2.0, what="the idle expiry")
    with contextlib.closing(login(short_sessions, "kurz", "kurz hat ein langes Passwort")) as busy:
        started = time.monotonic()
        # Used all the time, it still ends after its lifetime (4 s).
        wait_until(lambda: busy.get(links).status_code == 401, timeout=10, interval=0.3, what="the absolute expiry")
        assert time.monotonic() - started >= 3


# ---------------------------------------------------------------- headers


def test_security_headers(guarded: Server, town_hall: Server) -> None:
    with guarded.client(headers={"X-Forwarded-For": new_address()}) as client:
        viewer_page = client.get(f"/e/{SLUG}")
        csp = viewer_page.headers["content-security-policy"]
        assert "frame-src https://www.youtube-nocookie.com https://www.facebook.com;" in csp
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert viewer_page.headers["x-frame-options"] == "DENY"
        assert viewer_page.headers["x-content-type-options"] == "nosniff"
        assert viewer_page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in viewer_page.headers  # plain http
        for path in (f"/e/{SLUG}/mitmachen", "/login", "/"):
            assert "frame-src 'none'" in client.get(path).headers["content-security-policy"]
        overlay = client.get(f"/e/{SLUG}/overlay")  # 403 without a login, with the headers all the same
        assert f"frame-ancestors {STUDIO_SITE};" in overlay.headers["content-security-policy"]
        assert "x-frame-options" not in overlay.headers
        # Behind the trusted TLS proxy: HSTS, and the login cookie is Secure.
        https = {"X-Forwarded-Proto": "https"}
        assert client.get("/", headers=https).headers["strict-transport-security"] == "max-age=31536000"
        add_moderator(guarded, "tls", "tls hat ein langes Passwort")
        response = client.post("/login", data={"name": "tls", "password": "tls hat ein langes Passwort"}, headers=https)
        session_cookie = response.headers["set-cookie"]
        assert "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
        assert "Secure" in session_cookie
    with town_hall.client() as client:  # X-Forwarded-Proto from an untrusted peer is ignored
        assert "strict-transport-security" not in client.get("/", headers={"X-Forwarded-Proto": "https"}).headers
        assert "frame-ancestors 'none'" in client.get(f"/e/{SLUG}/overlay").headers["content-security-policy"]


@pytest.mark.parametrize("clock_start", [0.0, 5011.62, 86_400.37, 9_876_543.21])
@pytest.mark.parametrize(("setting", "allowed"), [("1/1h", 1), ("5/5m", 5), ("30/10s", 30), ("3/7s", 3)])
def test_a_budget_lets_exactly_its_count_through_whatever_the_clock_reads(
    clock_start: float, setting: str, allowed: int
) -> None:
    """The browser test once saw the first question of a "1/1h" device refused: `now + 3600 - 3600 - now` rounded
    to 1e-12 with the machine's monotonic clock at some values. The server's clock is whatever uptime it has."""
    limiter = Limiter.from_setting(f"question_device={setting}")
    limiter.clock = lambda: clock_start
    for _ in range(allowed):
        limiter.hit("questions", question_device="device-a")
    with pytest.raises(RateLimited):
        limiter.hit("questions", question_device="device-a")
    limiter.hit("questions", question_device="device-b")  # another device has its own budget
