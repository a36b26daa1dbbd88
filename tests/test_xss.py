"""Script typed by the public (or pasted into the admin forms) never runs and shows as typed, on every page.

A corpus of XSS payloads goes into every text a person can enter: questions, names, written answers, poll titles
and options, word-cloud words, the event's title, description and hashtag, agenda items and panelists (through the
admin forms, with their CSRF token). Then Chromium opens every page that shows them. Each payload would set
`window.__xss` or open a dialog if it ran; an injected inline script or handler would at least be refused by the
content security policy, which Chromium reports as a console error. `pages` fails the test on any console error
or dialog; the test checks `window.__xss` and that the texts are shown literally. The export returns them as data,
with spreadsheet formulas neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from browsing import PHONE_OPTIONS, Pages, expect_live, log_in
from fixtures import Server, Viewer, bearer, create_token, csrf_of, demo_credentials
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SLUG = "xss"
# Each at most 60 characters, so that every one fits every field (a question's name is the shortest).
PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=1>",
    "\"'><img src=x onerror=alert(1)>",
    "</script><script>window.__xss=1</script>",
    "${window.__xss=1}{{7*7}}`${alert(1)}`",
    "javascript:window.__xss=1",
    "=cmd|' /C calc'!A0",
    "\u202e<b>fett</b>\u200b<i onmouseover=window.__xss=1>x</i>",
    '<a href="javascript:window.__xss=1">Link</a>',
    '<iframe srcdoc="<script>parent.__xss=1</script>">',
    "&lt;b&gt;schon maskiert&lt;/b&gt; &amp; {% raw %}",
]
TITLE = "<script>window.__xss=1</script> Bürgerdialog"
HASHTAG = '#"><svg onload=window.__xss=1>'
# Elements only an injected payload could have put on a page.
INJECTED = "img[onerror], svg[onload], iframe[srcdoc], i[onmouseover], a[href^='javascript:'], b"


def _form(client: httpx.Client, path: str, form_path: str, data: dict[str, str]) -> None:
    response = client.post(path, data={**data, "csrf": csrf_of(client, form_path)})
    assert response.status_code == 303, response.text


@pytest.fixture(scope="module")
def corpus(shared_server: Server, shared_admin: httpx.Client) -> dict[str, Any]:
    """The event `xss`, with every payload in every field, as the public and the administration would type them."""
    _form(
        shared_admin,
        "/admin/events/new",
        "/admin/events/new",
        {
            "title": TITLE,
            "slug": SLUG,
            "description": "\n".join(PAYLOADS),
            "hashtag": HASHTAG,
            # Live while the suite runs: questions, reactions and ballots are taken only then.
            "starts_at": "2026-01-01T18:00",
            "ends_at": "2099-05-04T20:00",
            "moderation_mode": "approve",
            "questions_open": "on",
            "names_allowed": "on",
        },
    )
    edit = f"/admin/events/{SLUG}"
    for payload in PAYLOADS[:3]:
        _form(shared_admin, f"{edit}/agenda", edit, {"title": payload, "speakers": payload, "kind": "talk"})
        _form(shared_admin, f"{edit}/panelists", edit, {"name": payload, "role": payload})

    token = create_token(shared_server, demo_credentials(shared_server)[0])
    with shared_server.client(headers=bearer(token)) as moderator:
        api = f"/api/events/{SLUG}"
        event = moderator.get(api).json()
        panelist_id = event["panelists"][0]["id"]
        questions = []
        with shared_server.client() as phone:
            phone.get(api)
            for n, payload in enumerate(PAYLOADS):
                body: dict[str, Any] = {"text": payload, "name": PAYLOADS[-1 - n]}
                if n == 0:
                    body["panelist_id"] = panelist_id
                response = phone.post(f"{api}/questions", json=body)
                assert response.status_code == 201, response.text
                questions.append(response.json())
        for n, question in enumerate(questions):
            change = {"status": "answered", "answer": PAYLOADS[n]} if n % 4 == 1 else {"status": "approved"}
            response = moderator.patch(f"{api}/questions/{question['id']}", json=change)
            assert response.status_code == 200, response.text
        assert moderator.patch(f"{api}/questions/{questions[0]['id']}", json={"highlighted": True}).status_code == 200

        choice = moderator.post(f"{api}/polls", json={"title": PAYLOADS[1], "kind": "single", "options": PAYLOADS})
        words = moderator.post(f"{api}/polls", json={"title": PAYLOADS[2], "kind": "words"})
        assert choice.status_code == words.status_code == 201, (choice.text, words.text)
        for poll in (choice.json(), words.json()):
            response = moderator.patch(
                f"{api}/polls/{poll['id']}", json={"state": "open", "results_visibility": "live"}
            )
            assert response.status_code == 200, response.text
        voted_words = []
        for n, payload in enumerate(PAYLOADS[:4]):
            with shared_server.client() as phone:
                phone.get(api)
                option = choice.json()["options"][n]["id"]
                assert phone.post(f"{api}/polls/{choice.json()['id']}/votes", json={"options": [option]}).is_success
                response = phone.post(f"{api}/polls/{words.json()['id']}/votes", json={"text": payload})
                assert response.status_code == 201, response.text
                voted_words.append(response.json()["ballot"]["text"])
        return {
            "token": token,
            "questions": questions,
            "choice": choice.json(),
            "words": voted_words,
        }


def assert_inert(page: Page, *texts: str) -> None:
    """The texts are on the page as typed; nothing the payloads carry has run or become an element."""
    for text in texts:
        expect(page.locator("body")).to_contain_text(text.strip())
    assert page.evaluate("() => window.__xss") is None, f"a payload ran on {page.url}"
    assert page.locator(INJECTED).count() == 0, f"a payload became an element on {page.url}"


def test_payloads_are_shown_as_text_and_never_run_on_any_page(
    pages: Pages, shared_server: Server, corpus: dict[str, Any]
) -> None:
    questions = [q["text"] for q in corpus["questions"]]
    shown = [q for q in questions if q]  # every question is approved or answered: the public sees them all
    base = f"{shared_server.url}/e/{SLUG}"

    viewer = pages.open(base)
    expect_live(viewer)
    expect(viewer.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_inert(viewer, *shown, *PAYLOADS[:3], PAYLOADS[-1], HASHTAG)

    phone = pages.open(f"{base}/mitmachen", **PHONE_OPTIONS)
    expect_live(phone)
    assert_inert(phone, *shown[:4], PAYLOADS[1])

    moderator = log_in(pages, shared_server, f"/e/{SLUG}/moderate", demo_credentials(shared_server))
    expect_live(moderator)
    assert_inert(moderator, *questions, PAYLOADS[-1], PAYLOADS[0])
    for path, texts in (
        (f"/e/{SLUG}/present", [questions[0]]),
        (f"/e/{SLUG}/overlay", [questions[0]]),
        (f"/e/{SLUG}/summary", [TITLE, *PAYLOADS[:2]]),
        ("/admin", [TITLE]),
        (f"/admin/events/{SLUG}", []),
        ("/join", []),
    ):
        moderator.goto(f"{shared_server.url}{path}")
        assert_inert(moderator, *texts)
        if path == f"/admin/events/{SLUG}":
            expect(moderator.locator("#field-title")).to_have_value(TITLE)
            expect(moderator.locator("#field-hashtag")).to_have_value(HASHTAG)
            expect(moderator.locator("#field-description")).to_have_value("\n".join(PAYLOADS))
            agenda = moderator.locator("input[id^=agenda-][id$=-title]")
            expect(agenda).to_have_count(4)  # three items and the empty form for a new one
            assert agenda.evaluate_all("inputs => inputs.map(i => i.value)") == [*PAYLOADS[:3], ""]

    # The presenter screen showing the poll: its title and options.
    with shared_server.client(headers=bearer(corpus["token"])) as api:
        screen = {"mode": "poll", "poll_id": corpus["choice"]["id"]}
        assert api.put(f"/api/events/{SLUG}/screen", json=screen).status_code == 200
    moderator.goto(f"{base}/present")
    assert_inert(moderator, corpus["choice"]["title"], *PAYLOADS[:4])
    # The word cloud on the viewer page (live: it arrived while the page was open).
    assert_inert(viewer, *corpus["words"])


def test_the_export_returns_payloads_as_data_and_neutralises_formulas(
    shared_server: Server, corpus: dict[str, Any], viewer: Callable[..., Viewer]
) -> None:
    with shared_server.client(headers=bearer(corpus["token"])) as api:
        exported = api.get(f"/api/events/{SLUG}/export.json").json()
        table = api.get(f"/api/events/{SLUG}/export.csv", params={"what": "questions"})
        polls_table = api.get(f"/api/events/{SLUG}/export.csv", params={"what": "polls"})
    assert exported["event"]["title"] == TITLE
    assert {q["text"] for q in exported["questions"]} == set(PAYLOADS)
    assert {q["name"] for q in exported["questions"]} == set(PAYLOADS)
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig")), delimiter=";"))
    texts = {row["text"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in texts, "a formula is shown as text in a spreadsheet"
    assert {t for t in texts if t[0] in "=+-@"} == set(), texts
    assert set(PAYLOADS) - {"=cmd|' /C calc'!A0"} <= texts
    poll_rows = csv.DictReader(io.StringIO(polls_table.content.decode("utf-8-sig")), delimiter=";")
    labels = {row["answer"] for row in poll_rows}
    assert "'=cmd|' /C calc'!A0" in labels
