"""The JSON API over real HTTP: events, questions, votes, moderation, undo, and never a 500."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, add_moderator, bearer, create_event, create_token, login

pytestmark = pytest.mark.both_stores

QUESTIONS = f"/api/events/{SLUG}/questions"
UNDO = f"/api/events/{SLUG}/moderation/undo"
MAX_BODY = 64 * 1024

_texts = itertools.count(1)


_undo_numbers = itertools.count(1)


def unique_text(prefix: str = "Frage") -> str:
    return f"{prefix} Nummer {next(_texts)}: Wie geht es mit MiniMOGLI weiter?"


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def event_seq(client: httpx.Client) -> int:
    return client.get(f"/api/events/{SLUG}").json()["seq"]


@pytest.fixture
def anon(shared_server: Server) -> Iterator[httpx.Client]:
    """A device that has opened a page (so it has its device cookie) and is not logged in."""
    with shared_server.client() as client:
        client.get("/healthz")
        yield client


def test_a_request_without_the_device_cookie_cannot_ask(shared_server: Server) -> None:
    # Otherwise every cookie-less request would count as a new device, and a script could vote many times.
    with shared_server.client() as client:
        response = client.post(QUESTIONS, json={"text": "Ohne Cookie?"})
        assert_error(response, 400, "no_device")
        assert response.cookies.get("srl_device"), "the answer hands out a device cookie for next time"
        assert client.post(QUESTIONS, json={"text": "Mit Cookie!"}).status_code == 201


@pytest.fixture
def moderator(viewer: Callable[..., Viewer], shared_moderator_token: str) -> Viewer:
    """A moderator (bearer token) on the shared server."""
    return viewer(headers=bearer(shared_moderator_token))


# ---------------------------------------------------------------- events and documents


def test_healthz_says_ok(anon: httpx.Client) -> None:
    response = anon.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    # Which worker process answered: with `--workers N` it tells them apart.
    assert isinstance(body["worker"], int)


def test_demo_event_has_its_public_fields(anon: httpx.Client) -> None:
    response = anon.get(f"/api/events/{SLUG}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    event = response.json()
    assert event["slug"] == SLUG
    assert event["title"].startswith("Smart RLP")
    assert "Kaiserslautern" in event["description"]
    assert event["hashtag"] == "#smartRLP"
    # The demo is live: it started 10 minutes before the server, and ends 80 minutes after.
    starts, ends = (datetime.fromisoformat(event[k].replace("Z", "+00:00")) for k in ("starts_at", "ends_at"))
    assert ends - starts == timedelta(minutes=90)
    assert starts < datetime.now(UTC) < ends
    assert event["questions_open"] is True
    assert isinstance(event["seq"], int)
    assert "on_air_question_id" in event
    providers = {s["provider"]: s for s in event["streams"]}
    assert set(providers) == {"youtube", "facebook"}
    assert providers["youtube"]["embed_url"].startswith("https://www.youtube-nocookie.com/embed/")
    assert all(s["recipient"] for s in event["streams"])
    titles = [item["title"] for item in event["agenda"]]
    assert titles[0] == "Begrüßung"
    assert "Ihre Fragen an das Podium" in titles
    assert all({"title", "speakers", "kind", "starts_at", "duration_minutes"} <= set(i) for i in event["agenda"])
    # Nothing private leaks into the public event.
    assert "device_id" not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/events/no-such-event"),
        ("GET", "/api/events/no-such-event/questions"),
        ("POST", "/api/events/no-such-event/questions"),
        ("POST", "/api/events/no-such-event/questions/1/votes"),
        ("PATCH", "/api/events/no-such-event/questions/1"),
        ("POST", "/api/events/no-such-event/moderation/undo"),
        ("GET", "/api/no-such-thing"),
    ],
)
def test_unknown_things_are_404_with_an_error_body(anon: httpx.Client, method: str, path: str) -> None:
    response = anon.request(method, path, json={"text": "Hallo?"})
    assert_error(response, 404)


def test_openapi_document_describes_the_api(anon: httpx.Client) -> None:
    response = anon.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    paths = document["paths"]
    assert {
        "/healthz",
        "/api/events/{slug}",
        "/api/events/{slug}/questions",
        "/api/events/{slug}/questions/{question_id}",
        "/api/events/{slug}/questions/{question_id}/votes",
        "/api/events/{slug}/moderation/undo",
    } <= set(paths)
    assert {"get", "post"} <= set(paths["/api/events/{slug}/questions"])
    assert "patch" in paths["/api/events/{slug}/questions/{question_id}"]
    # Every documented operation exists on the server (no 405 for a documented method).
    for path, operations in paths.items():
        concrete = path.replace("{slug}", SLUG).replace("{question_id}", "999999")
        for method in operations:
            if method in {"get", "post", "patch", "put", "delete"}:
                assert anon.request(method.upper(), concrete).status_code != 405, (method, path)


# ---------------------------------------------------------------- asking


def test_asking_a_question_answers_201_pending(viewer: Callable[..., Viewer]) -> None:
    asker = viewer()
    response = asker.http.post(QUESTIONS, json={"text": "  Was ist MiniMOGLI?  ", "name": "Anna"})
    assert response.status_code == 201, response.text
    question = response.json()
    assert isinstance(question["id"], int)
    assert question["status"] == "pending"
    assert question["text"] == "Was ist MiniMOGLI?"
    assert question["name"] == "Anna"
    assert question["votes"] == 0
    assert question["version"] == 1
    assert question["highlighted"] is False
    assert question["answered_at"] is None
    assert question["mine"] is True
    assert question["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   \n\t  "},
        {"text": "x" * 301},
        {"text": "ä" * 301},
        {},
        {"text": None},
        {"text": 42},
        {"text": ["a list"]},
        {"text": "bell\x07"},
    ],
    ids=["empty", "whitespace", "301-chars", "301-umlauts", "missing", "null", "number", "list", "control-char"],
)
def test_bad_question_text_is_422(anon: httpx.Client, body: dict[str, Any]) -> None:
    error = assert_error(anon.post(QUESTIONS, json=body), 422, "invalid")
    assert error["details"]["field"] == "text"


@pytest.mark.parametrize("text", ["x" * 300, "😀" * 300, "ä" * 300])
def test_300_characters_are_fine(anon: httpx.Client, text: str) -> None:
    response = anon.post(QUESTIONS, json={"text": text})
    assert response.status_code == 201, response.text
    assert response.json()["text"] == text


@pytest.mark.parametrize("name", ["n" * 61, 7])
def test_bad_name_is_422(anon: httpx.Client, name: Any) -> None:
    error = assert_error(anon.post(QUESTIONS, json={"text": unique_text(), "name": name}), 422, "invalid")
    assert error["details"]["field"] == "name"


def test_name_is_optional_and_may_have_60_characters(anon: httpx.Client) -> None:
    assert anon.post(QUESTIONS, json={"text": unique_text(), "name": "n" * 60}).json()["name"] == "n" * 60
    assert anon.post(QUESTIONS, json={"text": unique_text(), "name": "   "}).json()["name"] is None
    assert anon.post(QUESTIONS, json={"text": unique_text()}).json()["name"] is None


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"text": "unterminated}',
        b"not json at all",
        b"\xff\xfe\x00",
        b"",
        b'["a", "list"]',
        b"null",
        b"[" * 20000,
    ],
    ids=["brace", "unterminated", "words", "bad-utf8", "empty", "array", "null", "nested-too-deep"],
)
def test_malformed_json_is_400(anon: httpx.Client, raw: bytes) -> None:
    response = anon.post(QUESTIONS, content=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", b'{"text": "Hallo"}'),
        ("application/x-www-form-urlencoded", b"text=Hallo"),
        (None, b'{"text": "Hallo"}'),
    ],
)
def test_non_json_content_type_is_415(anon: httpx.Client, content_type: str | None, raw: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = anon.post(QUESTIONS, content=raw, headers=headers)
    assert_error(response, 415, "unsupported_media_type")


def test_json_with_charset_parameter_is_accepted(anon: httpx.Client) -> None:
    response = anon.post(
        QUESTIONS, content=b'{"text": "Mit charset"}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201, response.text


def test_body_over_the_limit_is_413_with_content_length(anon: httpx.Client) -> None:
    body = b'{"text": "' + b"x" * MAX_BODY + b'"}'
    response = anon.post(QUESTIONS, content=body, headers={"Content-Type": "application/json"})
    assert "content-length" in {k.lower() for k in response.request.headers}
    assert_error(response, 413, "body_too_large")


def test_body_over_the_limit_is_413_when_chunked(shared_server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    with shared_server.client() as client:
        response = client.post(QUESTIONS, content=chunks(), headers={"Content-Type": "application/json"})
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert_error(response, 413, "body_too_large")
    with shared_server.client() as client:  # and the server keeps serving
        assert client.get("/healthz").status_code == 200


def test_body_just_under_the_limit_is_read(anon: httpx.Client) -> None:
    # Padded with white space between the tokens: an unknown field would be refused (422) before its size counted.
    body = b'{"text": "ok"' + b" " * (MAX_BODY - 100) + b"}"
    assert len(body) < MAX_BODY
    assert anon.post(QUESTIONS, content=body, headers={"Content-Type": "application/json"}).status_code == 201


def test_text_is_stored_exactly_as_typed(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    text = "<script>alert(1)</script> & \"quotes\" 'single' \\backslash\\ Grüße ünd ß 🎉 {{ 7*7 }} %s"
    asker, other = viewer(), viewer()
    question = asker.ask(text, name="<b>Ben</b> & Co")
    assert question["text"] == text
    assert question["name"] == "<b>Ben</b> & Co"
    assert {q["id"]: q for q in moderator.questions(status="pending")}[question["id"]]["text"] == text
    moderator.moderate(question["id"], status="approved")
    seen = {q["id"]: q for q in other.questions()}
    assert seen[question["id"]]["text"] == text
    assert seen[question["id"]]["name"] == "<b>Ben</b> & Co"


# ---------------------------------------------------------------- who sees what


def test_viewers_see_public_questions_and_their_own(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    asker, other = viewer(), viewer()
    pending = asker.ask(unique_text("Offen"))
    approved = asker.ask(unique_text("Freigegeben"))
    rejected = asker.ask(unique_text("Abgelehnt"))
    answered = asker.ask(unique_text("Beantwortet"))
    moderator.moderate(approved["id"], status="approved")
    moderator.moderate(rejected["id"], status="rejected")
    moderator.moderate(answered["id"], status="answered")

    mine = {q["id"]: q for q in asker.questions()}
    for question in (pending, approved, rejected, answered):
        assert mine[question["id"]]["mine"] is True
    assert mine[pending["id"]]["status"] == "pending"
    assert mine[rejected["id"]]["status"] == "rejected"

    theirs = {q["id"]: q for q in other.questions()}
    assert pending["id"] not in theirs
    assert rejected["id"] not in theirs
    assert theirs[approved["id"]]["mine"] is False
    assert theirs[answered["id"]]["status"] == "answered"
    assert all(q["status"] in {"approved", "answered"} or q["mine"] for q in other.questions())
    # A viewer cannot widen the filter.
    assert pending["id"] not in {q["id"] for q in other.questions(status="pending")}

    everything = {q["id"]: q for q in moderator.questions()}
    assert {pending["id"], approved["id"], rejected["id"], answered["id"]} <= set(everything)
    assert "mine" not in everything[pending["id"]]
    only_pending = moderator.questions(status="pending")
    assert pending["id"] in {q["id"] for q in only_pending}
    assert {q["status"] for q in only_pending} == {"pending"}
    two = moderator.questions(status="rejected,answered")
    assert {q["status"] for q in two} == {"rejected", "answered"}


def test_a_session_moderator_sees_everything_too(
    viewer: Callable[..., Viewer], shared_moderator_credentials: tuple[str, str]
) -> None:
    pending = viewer().ask(unique_text("Für die Sitzung"))
    moderator = viewer(credentials=shared_moderator_credentials)
    assert pending["id"] in {q["id"] for q in moderator.questions(status="pending")}


def test_unknown_status_filter_is_422(moderator: Viewer) -> None:
    response = moderator.http.get(QUESTIONS, params={"status": "pending,secret"})
    assert_error(response, 422, "invalid")


def test_unknown_sort_is_422(anon: httpx.Client) -> None:
    assert_error(anon.get(QUESTIONS, params={"sort": "random"}), 422, "invalid")


def test_sorting_by_votes_and_by_newest(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    first = viewer().ask(unique_text("Alt"))
    second = viewer().ask(unique_text("Neu"))
    for question in (first, second):
        moderator.moderate(question["id"], status="approved")
    voter = viewer()
    assert voter.http.post(f"{QUESTIONS}/{second['id']}/votes").status_code == 200
    popular = [q["id"] for q in voter.questions(sort="popular") if q["id"] in {first["id"], second["id"]}]
    newest = [q["id"] for q in voter.questions(sort="newest") if q["id"] in {first["id"], second["id"]}]
    assert popular == [second["id"], first["id"]]  # more votes first
    assert newest == [second["id"], first["id"]]
    votes = [q["votes"] for q in voter.questions(sort="popular")]
    assert votes == sorted(votes, reverse=True)


def test_a_bad_bearer_token_on_a_public_list_is_401(anon: httpx.Client) -> None:
    assert_error(anon.get(QUESTIONS, headers=bearer("srl_not-a-token")), 401, "unauthorized")


# ---------------------------------------------------------------- votes


def test_one_vote_per_device(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask(unique_text("Abstimmung"))
    moderator.moderate(question["id"], status="approved")
    first, second = viewer(), viewer()
    url = f"{QUESTIONS}/{question['id']}/votes"

    response = first.http.post(url)
    assert response.status_code == 200, response.text
    assert response.json()["votes"] == 1
    assert response.json()["counted"] is True

    again = first.http.post(url)
    assert again.status_code == 200
    assert again.json()["votes"] == 1
    assert again.json()["counted"] is False

    other = second.http.post(url)
    assert other.json()["votes"] == 2
    assert {q["id"]: q["votes"] for q in first.questions()}[question["id"]] == 2


def test_votes_only_for_approved_questions(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    asker = viewer()
    pending = asker.ask(unique_text("Noch offen"))
    assert_error(asker.http.post(f"{QUESTIONS}/{pending['id']}/votes"), 409, "not_votable")
    assert_error(viewer().http.post(f"{QUESTIONS}/{pending['id']}/votes"), 409, "not_votable")
    answered = asker.ask(unique_text("Schon beantwortet"))
    moderator.moderate(answered["id"], status="answered")
    assert_error(viewer().http.post(f"{QUESTIONS}/{answered['id']}/votes"), 409, "not_votable")
    assert_error(viewer().http.post(f"{QUESTIONS}/99999999/votes"), 404, "question_not_found")
    # The refused votes were not counted.
    assert {q["id"]: q["votes"] for q in moderator.questions()}[pending["id"]] == 0


# ---------------------------------------------------------------- moderation


def test_patch_needs_a_moderator(viewer: Callable[..., Viewer]) -> None:
    asker = viewer()
    question = asker.ask(unique_text("Unbefugt"))
    url = f"{QUESTIONS}/{question['id']}"
    assert_error(asker.http.patch(url, json={"status": "approved"}), 401, "unauthorized")
    assert_error(asker.http.patch(url, json={"status": "approved"}, headers=bearer("srl_wrong")), 401, "unauthorized")
    assert_error(
        asker.http.patch(url, json={"status": "approved"}, headers={"Authorization": "Basic ZGVtbzpkZW1v"}),
        401,
        "unauthorized",
    )
    assert_error(asker.http.patch(url, json={"status": "approved"}, headers={"Authorization": "Bearer"}), 401)
    assert_error(asker.http.post(UNDO), 401, "unauthorized")
    assert {q["id"]: q for q in asker.questions()}[question["id"]]["status"] == "pending"


def test_a_moderator_of_another_event_is_403(shared_server: Server, viewer: Callable[..., Viewer]) -> None:
    create_event(shared_server, "andere-veranstaltung", "Eine andere Veranstaltung")
    add_moderator(shared_server, "nur-andere", "ein langes Passwort", events=("andere-veranstaltung",))
    outsider = viewer(headers=bearer(create_token(shared_server, "nur-andere")))
    add_moderator(shared_server, "nur-smart", "ein langes Passwort", events=(SLUG,))
    insider = viewer(headers=bearer(create_token(shared_server, "nur-smart")))

    question = viewer().ask(unique_text("Zuständigkeit"))
    url = f"{QUESTIONS}/{question['id']}"
    assert_error(outsider.http.patch(url, json={"status": "approved"}), 403, "forbidden")
    assert_error(outsider.http.post(UNDO), 403, "forbidden")
    # Outside their event they are only a viewer: no pending questions of others.
    assert question["id"] not in {q["id"] for q in outsider.questions()}
    # In their own event they moderate.
    other_question = outsider.ask("Eine Frage woanders", slug="andere-veranstaltung")
    assert outsider.moderate(other_question["id"], slug="andere-veranstaltung", status="approved")["status"] == (
        "approved"
    )
    # A question id of another event is not found through this event.
    assert_error(insider.http.patch(f"{QUESTIONS}/{other_question['id']}", json={"status": "rejected"}), 404)
    assert insider.moderate(question["id"], status="approved")["status"] == "approved"


def test_moderation_walks_a_question_through_its_states(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask(unique_text("Lebenslauf"))
    qid = question["id"]

    approved = moderator.moderate(qid, status="approved")
    assert (approved["status"], approved["version"]) == ("approved", 2)

    rejected = moderator.moderate(qid, status="rejected")
    assert (rejected["status"], rejected["version"]) == ("rejected", 3)

    edited = moderator.moderate(qid, text="  Gekürzte Fassung der Frage  ")
    assert edited["text"] == "Gekürzte Fassung der Frage"
    assert edited["status"] == "rejected"
    assert edited["version"] == 4

    # On air: a rejected (or pending) question is approved at the same time.
    on_air = moderator.moderate(qid, highlighted=True)
    assert on_air["highlighted"] is True
    assert on_air["status"] == "approved"
    assert moderator.http.get(f"/api/events/{SLUG}").json()["on_air_question_id"] == qid

    answered = moderator.moderate(qid, status="answered")
    assert answered["status"] == "answered"
    assert answered["highlighted"] is False
    assert answered["answered_at"] is not None
    assert moderator.http.get(f"/api/events/{SLUG}").json()["on_air_question_id"] is None

    reopened = moderator.moderate(qid, status="approved")
    assert reopened["answered_at"] is None


def test_highlighting_a_pending_question_approves_it_and_replaces_the_one_on_air(
    viewer: Callable[..., Viewer], moderator: Viewer
) -> None:
    first = viewer().ask(unique_text("Erste"))
    second = viewer().ask(unique_text("Zweite"))
    assert moderator.moderate(first["id"], highlighted=True)["status"] == "approved"
    now = moderator.moderate(second["id"], highlighted=True)
    assert (now["status"], now["highlighted"]) == ("approved", True)
    listing = {q["id"]: q for q in moderator.questions()}
    assert listing[second["id"]]["highlighted"] is True
    assert listing[first["id"]]["highlighted"] is False
    assert moderator.moderate(second["id"], highlighted=False)["highlighted"] is False
    assert moderator.http.get(f"/api/events/{SLUG}").json()["on_air_question_id"] is None


def test_repeating_a_change_changes_nothing(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask(unique_text("Doppelklick"))
    first = moderator.moderate(question["id"], status="approved", highlighted=True)
    seq = event_seq(moderator.http)
    again = moderator.moderate(question["id"], status="approved", highlighted=True)
    assert again == first
    assert again["version"] == first["version"]
    assert moderator.moderate(question["id"], text=first["text"])["version"] == first["version"]
    assert moderator.moderate(question["id"])["version"] == first["version"]  # an empty change
    assert event_seq(moderator.http) == seq, "a repeated change must not be logged or broadcast"


def test_a_stale_version_is_409(viewer: Callable[..., Viewer], moderator: Viewer) -> None:
    question = viewer().ask(unique_text("Versionen"))
    url = f"{QUESTIONS}/{question['id']}"
    assert moderator.moderate(question["id"], status="approved", version=1)["version"] == 2
    error = assert_error(moderator.http.patch(url, json={"status": "rejected", "version": 1}), 409, "version_conflict")
    assert error["details"]["question"]["status"] == "approved"
    assert error["details"]["question"]["version"] == 2
    assert moderator.moderate(question["id"], status="rejected", version=2)["status"] == "rejected"


@pytest.mark.parametrize(
    "body",
    [
        {"stauts": "approved"},
        {"status": "approved", "votes": 100},
        {"status": "published"},
        {"status": None},
        {"status": ["approved"]},
        {"highlighted": "yes"},
        {"text": ""},
        {"text": "x" * 301},
        {"version": "1"},
        {"version": True},
    ],
    ids=[
        "typo",
        "votes",
        "bad-status",
        "null-status",
        "list-status",
        "string-bool",
        "empty-text",
        "long",
        "v-str",
        "v-bool",
    ],
)
def test_bad_changes_are_422(viewer: Callable[..., Viewer], moderator: Viewer, body: dict[str, Any]) -> None:
    question = viewer().ask(unique_text("Ungültig"))
    assert_error(moderator.http.patch(f"{QUESTIONS}/{question['id']}", json=body), 422, "invalid")
    assert {q["id"]: q for q in moderator.questions()}[question["id"]]["version"] == 1


def test_patch_body_errors(moderator: Viewer, viewer: Callable[..., Viewer]) -> None:
    question = viewer().ask(unique_text("Körper"))
    url = f"{QUESTIONS}/{question['id']}"
    assert_error(moderator.http.patch(url, content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert_error(moderator.http.patch(url, content=b"status=approved", headers={"Content-Type": "text/plain"}), 415)
    big = b'{"text": "' + b"x" * MAX_BODY + b'"}'
    assert_error(moderator.http.patch(url, content=big, headers={"Content-Type": "application/json"}), 413)
    assert_error(moderator.http.patch(f"{QUESTIONS}/99999999", json={"status": "approved"}), 404)


# ---------------------------------------------------------------- undo


@pytest.fixture
def fresh_moderator(shared_server: Server, viewer: Callable[..., Viewer]) -> Callable[[], Viewer]:
    """A new moderator each call, so that undo sees only this test's actions."""

    def make() -> Viewer:
        # One counter for the module: `id()` of a per-test counter was reused once the last test's was freed, and
        # the second test's first name then existed already on the shared server.
        name = f"undo-{next(_undo_numbers)}"
        add_moderator(shared_server, name, "ein langes Passwort")
        return viewer(headers=bearer(create_token(shared_server, name)))

    return make


def test_undo_restores_the_previous_state(viewer: Callable[..., Viewer], fresh_moderator: Callable[[], Viewer]) -> None:
    moderator = fresh_moderator()
    assert_error(moderator.http.post(UNDO), 404, "nothing_to_undo")
    question = viewer().ask(unique_text("Rückgängig"))
    qid = question["id"]
    moderator.moderate(qid, status="approved")
    moderator.moderate(qid, text="Neu formuliert", highlighted=True)

    response = moderator.http.post(UNDO)
    assert response.status_code == 200, response.text
    undone = response.json()["question"]
    assert (undone["text"], undone["status"], undone["highlighted"]) == (question["text"], "approved", False)
    assert moderator.http.get(f"/api/events/{SLUG}").json()["on_air_question_id"] != qid

    undone = moderator.http.post(UNDO).json()["question"]
    assert undone["status"] == "pending"
    assert undone["version"] == 5  # undo is a change of its own, never a step back in versions
    assert_error(moderator.http.post(UNDO), 404, "nothing_to_undo")
    assert {q["id"]: q for q in moderator.questions()}[qid]["status"] == "pending"


def test_undo_of_something_changed_since_is_409(
    viewer: Callable[..., Viewer], fresh_moderator: Callable[[], Viewer]
) -> None:
    alice, bob = fresh_moderator(), fresh_moderator()
    question = viewer().ask(unique_text("Zwei Köche"))
    alice.moderate(question["id"], status="approved")
    bob.moderate(question["id"], status="answered")
    assert_error(alice.http.post(UNDO), 409, "changed_since")
    assert {q["id"]: q for q in alice.questions()}[question["id"]]["status"] == "answered"
    # Bob's own undo works, and then Alice's does too.
    assert bob.http.post(UNDO).json()["question"]["status"] == "approved"
    assert alice.http.post(UNDO).json()["question"]["status"] == "pending"


def test_undo_only_undoes_your_own_actions(
    viewer: Callable[..., Viewer], fresh_moderator: Callable[[], Viewer]
) -> None:
    alice, bob = fresh_moderator(), fresh_moderator()
    hers = viewer().ask(unique_text("Ihre"))
    his = viewer().ask(unique_text("Seine"))
    alice.moderate(hers["id"], status="approved")
    bob.moderate(his["id"], status="rejected")
    assert alice.http.post(UNDO).json()["question"]["id"] == hers["id"]
    statuses = {q["id"]: q["status"] for q in bob.questions()}
    assert (statuses[hers["id"]], statuses[his["id"]]) == ("pending", "rejected")


# ---------------------------------------------------------------- logging in


def test_login_with_the_right_password_only(server: Server, moderator_credentials: tuple[str, str]) -> None:
    name, password = moderator_credentials
    with server.client() as client:
        response = client.post("/login", data={"name": name, "password": "wrong password!"})
        assert response.status_code == 401
        assert not client.cookies.get("srl_session")
        response = client.post("/login", data={"name": "nobody", "password": password})
        assert response.status_code == 401
    with contextlib.closing(login(server, name, password)) as moderator:
        question = moderator.post(QUESTIONS, json={"text": "Per Sitzung"}).json()
        response = moderator.patch(f"{QUESTIONS}/{question['id']}", json={"status": "approved"})
        assert response.status_code == 200, response.text
        response = moderator.post("/logout")
        assert response.status_code == 303
        assert_error(moderator.patch(f"{QUESTIONS}/{question['id']}", json={"status": "rejected"}), 401)


def test_a_stolen_session_is_dead_after_logout(server: Server, moderator_credentials: tuple[str, str]) -> None:
    with contextlib.closing(login(server, *moderator_credentials)) as moderator:
        cookie = moderator.cookies.get("srl_session")
        moderator.post("/logout")
    with server.client(cookies={"srl_session": cookie}) as thief:
        assert_error(thief.patch(f"{QUESTIONS}/1", json={"status": "approved"}), 401)
    with server.client(cookies={"srl_session": "forged.value.here"}) as forger:
        assert_error(forger.patch(f"{QUESTIONS}/1", json={"status": "approved"}), 401)


# ---------------------------------------------------------------- never a 500

JUNK_REQUESTS = [
    ("GET", "/"),
    ("GET", "/nope"),
    ("GET", "/e/no-such-event"),
    ("GET", "/e/smart-rlp/moderate"),
    ("GET", "/e/no-such-event/moderate"),
    ("GET", "/%00"),
    ("GET", "/..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/static/../pyproject.toml"),
    ("GET", "/static/%2e%2e/pyproject.toml"),
    ("GET", "/static/nope.js"),
    ("GET", "/api/events/"),
    ("GET", "/api/events/%F0%9F%98%80"),
    ("GET", "/api/events/" + "a" * 3000),
    ("GET", "/api/events/smart-rlp/questions?status=%00"),
    ("GET", "/api/events/smart-rlp/questions?sort=" + "x" * 2000),
    ("GET", "/api/events/smart-rlp/questions?status=,,,"),
    ("POST", "/api/events/smart-rlp/questions/99999999999999999999/votes"),
    ("POST", "/api/events/smart-rlp/questions/9223372036854775808/votes"),
    ("POST", "/api/events/smart-rlp/questions/999999999999999999/votes"),
    ("POST", "/api/events/smart-rlp/questions/-1/votes"),
    ("POST", "/api/events/smart-rlp/questions/abc/votes"),
    ("POST", "/api/events/smart-rlp/questions/1.5/votes"),
    ("POST", "/api/events/smart-rlp/questions/%C2%B2/votes"),
    ("POST", "/api/events/smart-rlp/questions/%D9%A1/votes"),
    ("POST", "/api/events/smart-rlp/questions/0x10/votes"),
    ("PATCH", "/api/events/smart-rlp/questions/99999999999999999999"),
    ("PATCH", "/api/events/smart-rlp/questions/%C2%B2"),
    ("PATCH", "/api/events/smart-rlp/questions/abc"),
    ("DELETE", "/api/events/smart-rlp/questions/1"),
    ("PUT", "/api/events/smart-rlp"),
    ("DELETE", "/api/events/smart-rlp"),
    ("POST", "/healthz"),
    ("POST", "/openapi.json"),
    ("GET", "/api/events/smart-rlp/moderation/undo"),
    ("GET", "/api/events/smart-rlp/questions/1/votes"),
    ("PATCH", "/api/events/smart-rlp/questions"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/ws/events/smart-rlp"),
    ("OPTIONS", "/api/events/smart-rlp/questions"),
    ("HEAD", "/api/events/smart-rlp"),
    ("TRACE", "/"),
]

JUNK_BODIES: list[tuple[bytes | None, dict[str, str]]] = [
    (None, {}),
    (b'{"text": "Hallo", "status": "approved"}', {"Content-Type": "application/json"}),
    (b"[" * 5000, {"Content-Type": "application/json"}),
    (b"\x00\xff" * 100, {"Content-Type": "application/json"}),
    (b"text=%FF%FE&name=\x00", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b"--x\r\nbroken multipart", {"Content-Type": "multipart/form-data; boundary=x"}),
    (b'{"text": "x"}', {"Content-Type": "application/json", "Authorization": "Bearer a b c"}),
    (b'{"text": "x"}', {"Content-Type": "application/json", "Cookie": "srl_device=garbage; srl_session=x.y.z"}),
    (b'{"text": "x"}', {"Content-Type": "application/json", "Cookie": 'srl_device="unterminated'}),
]


def test_junk_never_gets_a_5xx(shared_server: Server, shared_moderator_token: str) -> None:
    mark = shared_server.log_size()
    failures = []
    with shared_server.client() as client:
        for (method, path), (body, headers), as_moderator in itertools.product(
            JUNK_REQUESTS, JUNK_BODIES, (False, True)
        ):
            client.cookies.clear()
            all_headers = {**(bearer(shared_moderator_token) if as_moderator else {}), **headers}
            try:
                response = client.send(client.build_request(method, path, content=body, headers=all_headers))
            except httpx.TransportError as exc:  # the server hangs up after an unhandled error
                failures.append(f"{method} {path} {body[:20] if body else None!r} -> {exc!r}")
                continue
            if response.status_code >= 500:
                failures.append(f"{method} {path} {body[:20] if body else None!r} -> {response.status_code}")
            elif path.startswith("/api/") and response.status_code >= 400 and method != "HEAD":
                assert "error" in response.json(), (method, path, response.text)
    assert not failures, "\n".join(failures)
    assert shared_server.running
    assert not shared_server.unexpected_errors(since=mark), shared_server.log()


RAW_REQUESTS = [
    b"POST /api/events/smart-rlp/questions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: not-a-number\r\n\r\n{}",
    b"POST /api/events/smart-rlp/questions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\n{}",
    b"GET /api/events/smart-rlp/questions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x7f\x01\r\n\r\n",
    b"GET /api/events/smart-rlp HTTP/1.1\r\nHost: x\r\nCookie: srl_device=\xff\xfe; srl_session=\x01\r\n\r\n",
    b'GET /api/events/smart-rlp HTTP/1.1\r\nHost: x\r\nCookie: =;;;=;"\r\n\r\n',
    b"GET /e/smart-rlp/moderate HTTP/1.1\r\nHost: x\r\nCookie: srl_session=a.b.c\r\n\r\n",
    b"GET /api/events/sm%ZZart HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/events/\xc3\xa4 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW /api/events/smart-rlp HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /ws/events/smart-rlp HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
]


def raw_status(server: Server, data: bytes) -> int | None:
    """Send bytes that no well-behaved client library would send; the status code of the answer, if any."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 "):
        return None  # the server hung up without an answer, which is fine for garbage
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize("data", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_raw_junk_never_gets_a_5xx(shared_server: Server, data: bytes) -> None:
    mark = shared_server.log_size()
    status = raw_status(shared_server, data)
    assert status is None or status < 500, status
    with shared_server.client() as client:
        assert client.get("/healthz").status_code == 200
    assert not shared_server.unexpected_errors(since=mark), shared_server.log()


def test_the_body_limit_follows_the_setting(tmp_path: Path) -> None:
    server = Server(tmp_path / "small", env={"SMARTRLP_MAX_BODY_BYTES": "1024"}).start()
    try:
        with server.client() as client:
            client.get("/healthz")  # the device cookie
            # Padded with white space: an unknown field would be refused (422) before its size counted.
            fits = json.dumps({"text": "x" * 300}).encode()[:-1] + b" " * 600 + b"}"
            assert client.post(QUESTIONS, content=fits, headers={"Content-Type": "application/json"}).status_code == 201
            too_big = json.dumps({"text": "x" * 300}).encode()[:-1] + b" " * 800 + b"}"
            response = client.post(QUESTIONS, content=too_big, headers={"Content-Type": "application/json"})
            error = assert_error(response, 413, "body_too_large")
            assert "1024" in error["message"]
    finally:
        server.stop()
    server.assert_clean_log()


def test_unknown_fields_are_refused_with_the_field_named(anon: httpx.Client) -> None:
    response = anon.post(QUESTIONS, json={"text": "Wo fährt der Bus?", "bogus": 1})
    error = assert_error(response, 422, "invalid")
    assert error["details"] == {"field": "bogus"}
