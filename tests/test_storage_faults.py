"""Storage faults on the real server: a full disk and a read-only database file are answered, not crashed on.

The full disk is a real one, a small tmpfs mounted for the test and filled by another file, as a log or a backup
would fill the disk on event night; the read-only file is the database made immutable (`chattr +i`), which even
root cannot write. Both need root (mount, chattr), as the suite has here and in CI; elsewhere they are skipped.
While the fault lasts, every change answers `503 storage_unavailable` with `Retry-After`, reads go on, `/healthz`
answers 503 with the reason, and the log says it once; once the cause is gone writes resume by themselves, and
every change that was acknowledged is still there after a restart.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixtures import SLUG, Server, Viewer, wait_until

QUESTIONS = f"/api/events/{SLUG}/questions"


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(path: Path) -> None:
    """Write `path` until the filesystem says it is full, as another program would."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as error:
        full = error.errno == 28  # ENOSPC
    assert full
    try:  # the last few bytes, so that not even one page fits any more
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)


def ask(viewer: Viewer, text: str) -> httpx.Response:
    return viewer.http.post(QUESTIONS, json={"text": text})


def assert_storage_refusal(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert "try again" in response.json()["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0


def storage_log_lines(server: Server) -> list[str]:
    return [line for line in server.log().splitlines() if "storage unavailable" in line]


def stored_texts(db: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("SELECT text FROM questions")}


def test_a_full_disk_refuses_changes_with_503_keeps_reading_and_resumes_by_itself(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "8m") as disk, contextlib.ExitStack() as stack:
        server = Server(tmp_path / "server", db=disk / "live.db").start()
        stack.callback(server.stop)
        viewer = Viewer(server, stack)
        acknowledged = [ask(viewer, "Vor dem vollen Datenträger?").json()["id"]]

        fill(disk / "backup.tar")
        # What is left in the database's own files is used up first: ask until the disk says no.
        refused = None
        for number in range(2000):
            response = ask(viewer, f"Frage Nummer {number} bei fast vollem Datenträger?")
            if response.status_code != 201:
                refused = response
                break
            acknowledged.append(response.json()["id"])
        assert refused is not None, "2000 questions fitted on a full disk"
        assert_storage_refusal(refused)
        for number in range(20):
            assert_storage_refusal(ask(viewer, f"Noch eine Frage {number} bei vollem Datenträger?"))

        # Reads go on, with everything that was acknowledged.
        assert {q["id"] for q in viewer.questions()} >= set(acknowledged)
        assert viewer.http.get(f"/e/{SLUG}").status_code == 200
        health = viewer.http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["reason"] == "storage_unavailable"
        assert "full" in health.json()["cause"]
        # Said once (per minute), with the cause, and without a traceback for any of the refused requests.
        lines = storage_log_lines(server)
        assert len(lines) == 1, lines
        assert "database or disk is full" in lines[0]
        server.assert_clean_log()

        # Space is freed: the server notices by itself, with no visitor writing meanwhile.
        (disk / "backup.tar").unlink()
        wait_until(lambda: viewer.http.get("/healthz").status_code == 200, timeout=30, what="/healthz to be ok again")
        assert "storage writable again" in server.log()
        after = ask(viewer, "Nach dem Aufräumen wieder möglich?")
        assert after.status_code == 201, after.text
        acknowledged.append(after.json()["id"])

        server.stop()
        texts = stored_texts(disk / "live.db")
        assert {"Vor dem vollen Datenträger?", "Nach dem Aufräumen wieder möglich?"} <= texts
        assert not any(text.startswith("Noch eine Frage") for text in texts)
        with contextlib.closing(sqlite3.connect(disk / "live.db")) as conn:
            ids = {row[0] for row in conn.execute("SELECT id FROM questions")}
        assert set(acknowledged) <= ids
        server.assert_clean_log()


def chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *(str(p) for p in paths if p.exists())], check=True, capture_output=True)


def test_a_read_only_database_file_refuses_changes_and_resumes_when_writable(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.touch()
    made = subprocess.run(["chattr", "+i", str(probe)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.decode().strip()}")
    chattr("-i", probe)

    server = Server(tmp_path / "server")
    db_files = [server.db, Path(f"{server.db}-wal")]
    with contextlib.ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        stack.callback(chattr, "-i", *db_files)  # even when the test fails, or its folder cannot be removed
        viewer = Viewer(server, stack)
        first = ask(viewer, "Vor dem Schreibschutz gestellt?")
        assert first.status_code == 201, first.text

        chattr("+i", *db_files)
        for number in range(5):
            assert_storage_refusal(ask(viewer, f"Frage {number} während des Schreibschutzes?"))
        assert first.json()["id"] in {q["id"] for q in viewer.questions()}
        health = viewer.http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["reason"] == "storage_unavailable"
        assert len(storage_log_lines(server)) == 1, storage_log_lines(server)
        server.assert_clean_log()

        chattr("-i", *db_files)
        wait_until(lambda: viewer.http.get("/healthz").status_code == 200, timeout=30, what="/healthz to be ok again")
        after = ask(viewer, "Nach dem Schreibschutz wieder möglich?")
        assert after.status_code == 201, after.text

        server.stop()
        texts = stored_texts(server.db)
        assert {"Vor dem Schreibschutz gestellt?", "Nach dem Schreibschutz wieder möglich?"} <= texts
        assert not any("während des Schreibschutzes" in text for text in texts)
        server.assert_clean_log()


class DegradedServer(Server):
    """A server whose start is complete once /healthz answers at all (503 while it cannot write)."""

    def _wait_healthy(self) -> None:
        def answering() -> bool:
            assert self.running, f"the server exited while starting:\n{self.log()}"
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code in {200, 503}
            except httpx.TransportError:
                return False

        wait_until(answering, timeout=self.startup_timeout, interval=0.05, what="/healthz to answer")


def test_a_restart_while_the_database_is_read_only_comes_up_and_serves_what_is_stored(tmp_path: Path) -> None:
    server = DegradedServer(tmp_path / "server")
    db_files = [server.db, Path(f"{server.db}-wal"), Path(f"{server.db}-shm")]
    with contextlib.ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        stack.callback(chattr, "-i", *db_files)
        viewer = Viewer(server, stack)
        asked = ask(viewer, "Vor dem Neustart gestellt?")
        assert asked.status_code == 201, asked.text
        server.stop()

        chattr("+i", *db_files)
        server.start()  # the operator restarts it, not knowing yet what is wrong
        assert viewer.http.get(f"/e/{SLUG}").status_code == 200
        assert [q["text"] for q in viewer.questions()] == ["Vor dem Neustart gestellt?"]
        assert_storage_refusal(ask(viewer, "Nach dem Neustart gestellt?"))
        health = viewer.http.get("/healthz")
        assert health.status_code == 503
        assert "readonly" in health.json()["cause"]

        chattr("-i", *db_files)
        wait_until(lambda: viewer.http.get("/healthz").status_code == 200, timeout=30, what="/healthz to be ok again")
        assert ask(viewer, "Nach dem Neustart gestellt?").status_code == 201
        server.assert_clean_log()
