"""The package works installed from its wheel, as docs/deploy.md installs it (`pip install .`, not editable).

The wheel is built from a copy of the checkout and installed into a new virtual environment; the server then runs
from that environment's `smartrlp` script in an empty folder, so nothing can come from the checkout: the pages, the
scripts and styles they load, the translations, the word lists and the migrations all have to be in the wheel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fixtures import PROJECT_ROOT, SLUG, Server

# What a checkout may hold that is no part of the source (a venv inside it, as the README makes, build leftovers).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache",
    "screenshots", "*.db", "*.db-wal", "*.db-shm",
)  # fmt: skip
# Files in smartrlp/ that the running server never reads, so the wheel leaves them out.
NOT_SHIPPED = {"smartrlp/locale/messages.pot"}
# The content types a browser accepts for what a page loads, by the file's suffix.
CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".svg": {"image/svg+xml"},
    ".png": {"image/png"},
    ".ico": {"image/x-icon", "image/vnd.microsoft.icon"},
    ".woff2": {"font/woff2"},
    ".json": {"application/json"},
    ".webmanifest": {"application/manifest+json", "application/json"},
}
# Module specifiers in a script: `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`.
MODULE_SPECIFIER = re.compile(
    r"""^\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']"""
    r"""|^\s*import\s*["']([^"']+)["']"""
    r"""|\bimport\s*\(\s*["']([^"']+)["']\s*\)""",
    re.MULTILINE,
)
# Subprocess timeouts: generous for two busy cores; the whole module takes well under a minute.
BUILD_TIMEOUT = 180


def clean_env() -> dict[str, str]:
    """The environment without anything that would put the checkout on the path of the installed interpreter."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}}


def run(*command: str | Path, cwd: Path, timeout: float = BUILD_TIMEOUT) -> str:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel .` on a copy of the checkout.

    A copy, because setuptools builds in the source folder: it would leave build/ and smartrlp.egg-info in the
    checkout, and a stale build/ from an earlier run can carry files into the wheel that the checkout no longer has.
    """
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=NOT_SOURCE)
    dist = tmp / "dist"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps", "-w", dist, ".",
        cwd=source)  # fmt: skip
    (built,) = dist.glob("smartrlp-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed in it, not editable.

    The dependencies are not installed from the package index: that takes minutes and the network, and this test is
    about where smartrlp's own files come from. Instead a .pth file in the new site-packages appends the running
    interpreter's site directories (where the same dependencies are installed) after it. A path added by a .pth file
    is searched after the environment's own site-packages, so the installed smartrlp wins over any other copy, and
    the .pth files inside those appended folders are not run, so an editable install of the checkout living there
    (its finder or path entry) stays inactive. `installed_package` checks that the checkout is not used.

    The environment is made without pip (`--without-pip` takes a fraction of a second, ensurepip many seconds);
    the running pip installs into it with `--python`.
    """
    root = tmp_path_factory.mktemp("venv")
    env = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", env, cwd=root)
    python = env / "bin" / "python"
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check",
        "--no-deps", "--no-index", wheel, cwd=root,
    )  # fmt: skip
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).strip())
    dependency_dirs = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    (purelib / "zz_smartrlp_test_dependencies.pth").write_text(
        "".join(f"{d}\n" for d in dependency_dirs if Path(d).is_dir())
    )
    return env


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cwd")


def test_wheel_carries_every_module_and_asset(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    expected = set()
    for path in (PROJECT_ROOT / "smartrlp").rglob("*"):
        name = path.relative_to(PROJECT_ROOT).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and name not in NOT_SHIPPED:
            expected.add(name)
    for folder in ("static", "templates"):
        expected |= {
            f"smartrlp/{path.relative_to(PROJECT_ROOT).as_posix()}"
            for path in (PROJECT_ROOT / folder).rglob("*")
            if path.is_file()
        }
    missing = sorted(expected - shipped)
    assert not missing, (
        "the wheel lacks these files; a new subpackage goes into [tool.setuptools] packages in pyproject.toml, "
        f"a new kind of data file into [tool.setuptools.package-data]: {missing}"
    )
    assert not [n for n in shipped if n.startswith(("static/", "templates/"))], "assets must live inside smartrlp/"


def test_installed_package_is_not_the_checkout(venv: Path, empty_dir: Path) -> None:
    probe = (
        "import json, sys, smartrlp; from smartrlp.core.settings import Settings; s = Settings(); "
        "print(json.dumps([smartrlp.__file__, str(s.templates_dir), str(s.static_dir), sys.path]))"
    )
    module, templates, static, path = json.loads(run(venv / "bin" / "python", "-c", probe, cwd=empty_dir))
    package = Path(module).resolve().parent
    assert package.is_relative_to(venv.resolve()), f"smartrlp was imported from {package}, not the new environment"
    for found in (templates, static):
        assert Path(found).resolve().is_relative_to(package), f"{found} is not inside the installed package"
    assert Path(templates, "viewer.html").is_file()
    assert Path(static, "js", "pages", "viewer.js").is_file()
    assert str(PROJECT_ROOT) not in path, "the checkout is on the installed interpreter's path"


class HtmlRefs(HTMLParser):
    """The scripts, styles and icons a page loads."""

    LOADED_RELS: ClassVar[set[str]] = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.refs.append(str(attributes["src"]))
        if tag == "link" and attributes.get("href") and self.LOADED_RELS & set((attributes.get("rel") or "").split()):
            self.refs.append(str(attributes["href"]))


def page_refs(url: str, html: str) -> Iterator[str]:
    parser = HtmlRefs()
    parser.feed(html)
    for ref in parser.refs:
        yield urljoin(url, ref)


def module_imports(url: str, script: str) -> Iterator[str]:
    for match in MODULE_SPECIFIER.finditer(script):
        specifier = next(group for group in match.groups() if group)
        assert specifier.startswith(("./", "../", "/")), f"{url} imports {specifier!r}, which no browser resolves"
        yield urljoin(url, specifier)


def assert_served(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    path = urlsplit(url).path
    suffix = Path(path).suffix
    assert suffix in CONTENT_TYPES, f"{url}: add the content type for {suffix!r} files to CONTENT_TYPES"
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert content_type in CONTENT_TYPES[suffix], f"{url} came as {content_type!r}"
    if path.startswith("/static/"):
        source = PROJECT_ROOT / path.lstrip("/")
        assert response.content == source.read_bytes(), f"{url} differs from {source}"
    return response


def test_installed_server_serves_pages_and_everything_they_load(venv: Path, empty_dir: Path, tmp_path: Path) -> None:
    server = Server(tmp_path, db=tmp_path / "x.db")
    # The installed script, as systemd runs it (docs/deploy.md), started in an empty folder; the logs stay apart.
    server.command = lambda: [  # type: ignore[method-assign]
        str(venv / "bin" / "smartrlp"), "serve", "--demo", "--host", "127.0.0.1", "--port", str(server.port),
        "--db", str(server.db),
    ]  # fmt: skip
    server.directory = empty_dir
    server.env = {k: v for k, v in server.env.items() if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}}
    try:
        server.start()
        with server.client() as client:
            pages = ["/", f"/e/{SLUG}", f"/e/{SLUG}/mitmachen", "/login", "/?lang=en"]
            assets: list[str] = []
            for page in pages:
                response = client.get(page)
                assert response.status_code == 200, f"{page}: {response.status_code}\n{server.log()}"
                assert response.headers["content-type"].startswith("text/html")
                assets += page_refs(str(response.url), response.text)
            # The English catalogue (a .po file in the wheel) is read: the English home page is English.
            assert '<html lang="en"' in client.get("/?lang=en").text
            # Page scripts and stylesheets carry their content hash (`?v=…`, cached for a year).
            unversioned = [url.split("?")[0] for url in assets]
            assert f"{server.url}/static/js/pages/viewer.js" in unversioned, "the viewer page loads no viewer.js"

            seen: set[str] = set()
            while assets:
                url = assets.pop()
                if url in seen:
                    continue
                seen.add(url)
                response = assert_served(client, url)
                if url.split("?")[0].endswith((".js", ".mjs")):
                    assets += module_imports(url, response.text)
            assert f"{server.url}/static/js/lib/protocol.js" in seen, "the viewer's imports were not followed"

            spec = client.get("/openapi.json")
            assert spec.status_code == 200
            assert spec.json()["paths"], "the served API description has no paths"
        server.assert_clean_log()
    finally:
        server.stop()
