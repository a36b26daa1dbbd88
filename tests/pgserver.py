"""A real PostgreSQL server for the tests and the benchmark: Debian's initdb and pg_ctl in a temporary directory.

One server per test session (per xdist worker), on a free loopback port, with its socket in its own directory.
Every test server gets a fresh database copied from a template that already holds every migration
(`CREATE DATABASE ... TEMPLATE`), which takes milliseconds instead of migrating each time.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then belongs to the `postgres` user (or
`nobody`) and the commands run through `runuser`. Where initdb is not on PATH it is looked for where Debian puts
it (/usr/lib/postgresql/<version>/bin); `.ci/run` installs the `postgresql` package where neither has it.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TEMPLATE = "smartrlp_template"


def postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[4]))
    return candidates[-1] if candidates else None


def available() -> bool:
    return postgres_bin("initdb") is not None and postgres_bin("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged_user() -> str | None:
    """The user to run PostgreSQL as when we are root (it refuses root), else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and there is neither a postgres nor a nobody user to run PostgreSQL as")


class PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; `stop()` removes everything again.

    `durable=False` (the tests) turns fsync off: the tests kill our server, never PostgreSQL, so every committed
    transaction is still in PostgreSQL's memory and on its way to disk. The benchmark keeps PostgreSQL's defaults.
    """

    _numbers = itertools.count(1)

    def __init__(self, *, durable: bool = False, port: int | None = None, listen: str = "127.0.0.1") -> None:
        self.durable = durable
        self.port = port or _free_port()
        self.listen = listen
        self.user = "smartrlp"
        self.directory = Path(tempfile.mkdtemp(prefix="smartrlp-pg-"))  # /tmp itself: reachable by postgres
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self._as = _unprivileged_user()
        if self._as is not None:
            entry = pwd.getpwnam(self._as)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = list(command)
        if self._as is not None:
            argv = ["runuser", "-u", self._as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd=self.directory)
        if result.returncode != 0:
            log = self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}\n{log}")
        return result

    def start(self) -> PostgresServer:
        initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self._run(
            initdb, "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"
        )
        options = [
            f"-p {self.port}",
            f"-c listen_addresses={self.listen}",
            f"-k {self.directory}",
            "-c max_connections=300",
            "-c shared_buffers=32MB",
            # Deadlocks between hosts are found after this long (the default is 1 s).
            "-c deadlock_timeout=200ms",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        self._run(
            pg_ctl, "-D", str(self.data), "-l", str(self.log_path), "-o", " ".join(options), "-w", "-t", "60", "start"
        )
        return self

    def stop(self) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        if pg_ctl and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.listen}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        psql = postgres_bin("psql") or "psql"
        result = subprocess.run(
            [psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr}")
        return result.stdout

    def new_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`), and its URL."""
        name = f"test_{os.getpid()}_{next(self._numbers)}_{int(time.time() * 1000) % 100000}"
        self.psql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""))
        return self.url(name)
