"""The `smartrlp` command: serve, and manage moderators and tokens."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable

from smartrlp import accounts
from smartrlp.db import Database
from smartrlp.demo import DEMO_SLUG, ensure_demo_event
from smartrlp.settings import Settings, SettingsError


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(db_path=args.db)


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(settings.db_path)
    await db.open()
    try:
        return await work(db)
    finally:
        await db.close()


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Noch einmal: ") != first:
            raise accounts.AccountError("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from smartrlp.app import create_app

    settings = _settings(args)
    base = f"http://{'localhost' if args.host in {'0.0.0.0', '::'} else args.host}:{args.port}"  # noqa: S104

    async def prepare(db: Database) -> int:
        if args.demo:
            await ensure_demo_event(db)
            print(f"Demo-Veranstaltung:  {base}/e/{DEMO_SLUG}")
            print(f"Moderation:          {base}/e/{DEMO_SLUG}/moderate")
            if await db.fetchone("SELECT 1 FROM moderators") is None:
                password = secrets.token_urlsafe(12)
                await accounts.add_moderator(db, "demo", password, role="admin")
                print(f"Demo-Moderator:      Name 'demo', Passwort '{password}' (nur dieses eine Mal angezeigt)")
        return 0

    asyncio.run(_with_db(settings, prepare))
    sys.stdout.flush()
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        # Open websockets must not hold up a restart for long: clients resume from their last seq.
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_moderator_add(args: argparse.Namespace) -> int:
    password = _read_password(f"Passwort für {args.name}: ")

    async def work(db: Database) -> int:
        moderator = await accounts.add_moderator(db, args.name, password, role=args.role, event_slugs=args.event)
        scope = ", ".join(args.event) if args.event else "alle Veranstaltungen"
        print(f"Moderator {moderator.name!r} ({moderator.role}) angelegt für {scope}.")
        return 0

    return asyncio.run(_with_db(_settings(args), work))


def cmd_token_create(args: argparse.Namespace) -> int:
    async def work(db: Database) -> int:
        token = await accounts.create_token(db, args.name, args.label)
        print(f"Token für {args.name!r} (nur dieses eine Mal angezeigt):")
        print(token)
        return 0

    return asyncio.run(_with_db(_settings(args), work))


def build_parser() -> argparse.ArgumentParser:
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument("--db", help="SQLite file (default: $SMARTRLP_DB or ./smartrlp.db)")
    parser = argparse.ArgumentParser(prog="smartrlp", description="Smart RLP Live: live Q&A for public events")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[db_option], help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create the demo event 'smart-rlp' if missing")
    serve.set_defaults(handler=cmd_serve)

    moderator = commands.add_parser("moderator", help="manage moderators").add_subparsers(dest="action", required=True)
    add = moderator.add_parser("add", parents=[db_option], help="add a moderator (password from prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=accounts.ROLES, default="moderator")
    add.add_argument(
        "--event", action="append", metavar="SLUG", help="restrict to this event (repeatable); default: every event"
    )
    add.set_defaults(handler=cmd_moderator_add)

    token = commands.add_parser("token", help="manage bearer tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", parents=[db_option], help="create a bearer token for a moderator")
    create.add_argument("name")
    create.add_argument("--label", default="")
    create.set_defaults(handler=cmd_token_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except (accounts.AccountError, SettingsError) as exc:
        print(f"smartrlp: {exc}", file=sys.stderr)
        return 2
