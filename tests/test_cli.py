"""The `smartrlp` command as an operator uses it: moderators, tokens, the database option, serving."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest
from fixtures import (
    SLUG,
    Server,
    add_moderator,
    bearer,
    create_event,
    create_token,
    demo_credentials,
    login,
    run_cli,
)

QUESTIONS = f"/api/events/{SLUG}/questions"


def moderator_names(db: Path | str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM moderators ORDER BY id")]


def test_moderator_add_reads_the_password_from_stdin(server: Server) -> None:
    result = add_moderator(server, "Petra", "ein sehr langes Passwort")
    assert result.returncode == 0
    assert "Petra" in result.stdout
    assert "ein sehr langes Passwort" not in result.stdout + result.stderr
    # The password from stdin is the one that logs in (and nothing else does).
    with contextlib.closing(login(server, "Petra", "ein sehr langes Passwort")) as client:
        assert client.get(QUESTIONS, params={"status": "pending"}).status_code == 200
    with server.client() as client:
        assert client.post("/login", data={"name": "Petra", "password": "ein sehr langes"}).status_code == 401


def test_a_windows_line_ending_is_not_part_of_the_password(server: Server) -> None:
    server.cli("moderator", "add", "Windows", stdin="passwort mit crlf\r\n")
    login(server, "Windows", "passwort mit crlf").close()


@pytest.mark.parametrize("password", ["", "kurz", "12345678901"])  # one policy with /admin/users: 12
def test_a_short_password_is_refused_with_exit_code_2(tmp_path: Path, password: str) -> None:
    db = tmp_path / "cli.db"
    result = run_cli("moderator", "add", "Kurt", "--db", str(db), stdin=password + "\n", check=False)
    assert result.returncode == 2
    assert "at least 12 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert moderator_names(db) == []


def test_a_name_can_only_be_taken_once(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    run_cli("moderator", "add", "Jana", "--db", db, stdin="ein langes Passwort\n")
    again = run_cli("moderator", "add", "jana", "--db", db, stdin="ein anderes Passwort\n", check=False)
    assert again.returncode == 2
    assert "exists already" in again.stderr
    assert moderator_names(db) == ["Jana"]


def test_an_unknown_event_or_role_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    result = run_cli(
        "moderator", "add", "Ela", "--event", "gibt-es-nicht", "--db", db, stdin="langes Passwort\n", check=False
    )
    assert result.returncode == 2
    assert "gibt-es-nicht" in result.stderr
    result = run_cli("moderator", "add", "Ela", "--role", "kaiser", "--db", db, stdin="langes Passwort\n", check=False)
    assert result.returncode == 2  # argparse refuses the choice
    assert "kaiser" in result.stderr
    assert moderator_names(db) == []


def test_token_create_prints_a_token_that_authenticates(server: Server) -> None:
    add_moderator(server, "Tobias", "ein langes Passwort")
    result = server.cli("token", "create", "Tobias", "--label", "Studio-Laptop")
    lines = result.stdout.strip().splitlines()
    token = lines[-1]
    assert re.fullmatch(r"srl_[A-Za-z0-9_-]{40,}", token), result.stdout
    assert token not in "\n".join(lines[:-1])
    with server.client(headers=bearer(token)) as client:
        client.get("/healthz")  # the device cookie, as a page visit would set it
        question = client.post(QUESTIONS, json={"text": "Per Token moderiert"}).json()
        assert client.get(QUESTIONS, params={"status": "pending"}).status_code == 200
        response = client.patch(f"{QUESTIONS}/{question['id']}", json={"status": "approved"})
        assert response.status_code == 200, response.text
    # Each call makes a new token; both work.
    second = create_token(server, "Tobias")
    assert second != token
    with server.client(headers=bearer(second)) as client:
        assert client.get(QUESTIONS, params={"status": "pending"}).status_code == 200


def test_token_for_an_unknown_moderator_fails_with_exit_code_2(tmp_path: Path) -> None:
    result = run_cli("token", "create", "Niemand", "--db", str(tmp_path / "cli.db"), check=False)
    assert result.returncode == 2
    assert "Niemand" in result.stderr
    assert "srl_" not in result.stdout


def test_moderators_restricted_to_an_event(server: Server) -> None:
    create_event(server, "zweite-veranstaltung")
    add_moderator(server, "Nur-Zwei", "ein langes Passwort", events=("zweite-veranstaltung",))
    add_moderator(server, "Beide", "ein langes Passwort", events=(SLUG, "zweite-veranstaltung"))
    add_moderator(server, "Chefin", "ein langes Passwort", role="admin", events=("zweite-veranstaltung",))
    with server.client() as viewer:
        viewer.get("/healthz")  # the device cookie, as a page visit would set it
        question = viewer.post(QUESTIONS, json={"text": "Wer darf mich freigeben?"}).json()
    url = f"{QUESTIONS}/{question['id']}"
    expected = {"Nur-Zwei": 403, "Beide": 200, "Chefin": 200}  # an admin moderates every event
    for name, status in expected.items():
        with server.client(headers=bearer(create_token(server, name))) as client:
            assert client.patch(url, json={"status": "approved"}).status_code == status, name


def test_the_db_option_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "erste.db", tmp_path / "zweite.db"
    elsewhere = tmp_path / "anderswo.db"
    monkeypatch.setenv("SMARTRLP_DB", str(elsewhere))  # --db wins over the environment
    run_cli("moderator", "add", "Erste", "--db", str(first), stdin="ein langes Passwort\n")
    run_cli("moderator", "add", "Zweite", "--db", str(second), stdin="ein langes Passwort\n")
    assert moderator_names(first) == ["Erste"]
    assert moderator_names(second) == ["Zweite"]
    assert not elsewhere.exists()
    assert run_cli("token", "create", "Erste", "--db", str(second), check=False).returncode == 2
    token = run_cli("token", "create", "Erste", "--db", str(first)).stdout.strip().splitlines()[-1]

    # The server uses the file it is given, and keeps what it stores there across a restart.
    server = Server(tmp_path / "server", db=first).start()
    try:
        with server.client(headers=bearer(token)) as client:
            client.get("/healthz")  # the device cookie, as a page visit would set it
            question = client.post(QUESTIONS, json={"text": "Bleibt gespeichert"}).json()
        server.restart()
        with server.client(headers=bearer(token)) as client:
            ids = [q["id"] for q in client.get(QUESTIONS, params={"status": "pending"}).json()["questions"]]
        assert ids == [question["id"]]
    finally:
        server.stop()
    server.assert_clean_log()
    with sqlite3.connect(first) as conn:
        assert conn.execute("SELECT text FROM questions").fetchall() == [("Bleibt gespeichert",)]
    assert not elsewhere.exists()


def test_the_environment_names_the_database_when_no_option_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "aus-der-umgebung.db"
    monkeypatch.setenv("SMARTRLP_DB", str(db))
    run_cli("moderator", "add", "Umwelt", stdin="ein langes Passwort\n")
    assert moderator_names(db) == ["Umwelt"]


def test_serve_demo_prints_the_demo_moderator_once(server: Server) -> None:
    name, password = demo_credentials(server)
    assert name == "demo"
    login(server, name, password).close()
    server.restart()
    # The demo moderator exists now, so the restart neither prints nor changes a password.
    assert server.stdout().count("Demo-Administrator:") == 1
    login(server, name, password).close()
    with server.client() as client:
        assert client.get(f"/api/events/{SLUG}").status_code == 200


def test_bad_settings_are_reported_with_exit_code_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTRLP_MAX_BODY_BYTES", "viel")
    result = run_cli(
        "moderator", "add", "X", "--db", str(tmp_path / "x.db"), stdin="ein langes Passwort\n", check=False
    )
    assert result.returncode == 2
    assert "SMARTRLP_MAX_BODY_BYTES" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_do_not_crash(tmp_path: Path) -> None:
    for args in ([], ["moderator"], ["token"], ["moderator", "add"], ["serve", "--port", "hafen"]):
        result = run_cli(*args, check=False)
        assert result.returncode == 2, args
        assert "usage:" in result.stderr
        assert "Traceback" not in result.stderr
