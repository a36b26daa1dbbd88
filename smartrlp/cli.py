"""The `smartrlp` command: serve, and manage moderators and tokens."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from smartrlp.core.errors import ApiError
from smartrlp.core.settings import Settings, SettingsError
from smartrlp.db.store import Database
from smartrlp.models.accounts import ROLES
from smartrlp.models.export import CSV_PARTS
from smartrlp.realtime.broker import check_url
from smartrlp.services import accounts, demo, export, retention, users
from smartrlp.services.context import Context


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(db_path=args.db)


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(settings.db_path)
    await db.open()
    try:
        return await work(db)
    finally:
        await db.close()


async def _with_context(settings: Settings, work: Callable[[Context], Awaitable[int]]) -> int:
    """Run `work` with the services' context over the database: the same functions the web pages call."""

    async def with_db(db: Database) -> int:
        return await work(Context.offline(db, settings))

    return await _with_db(settings, with_db)


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Noch einmal: ") != first:
            raise accounts.AccountError(accounts.problem("passwords_differ", "The two passwords differ."))
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_serve(args: argparse.Namespace) -> int:
    from smartrlp import serve
    from smartrlp.app import create_app

    settings = _settings(args)
    if args.workers < 1:
        raise SettingsError(f"--workers must be positive, not {args.workers}")
    if settings.broker:
        check_url(settings.broker)
    if args.workers > 1 and not settings.broker:
        # Each worker process has its own in-memory hub: without a broker a viewer would only see the changes
        # made through the worker it happens to be connected to.
        print(
            "smartrlp: --workers above 1 needs a broker so that every worker sees every change: "
            "set SMARTRLP_BROKER=redis://127.0.0.1:6379 (see README, Scale-out).",
            file=sys.stderr,
        )
        return 2
    base = f"http://{'localhost' if args.host in {'0.0.0.0', '::'} else args.host}:{args.port}"  # noqa: S104

    async def prepare(ctx: Context) -> int:
        if args.demo:
            await demo.ensure_demo_event(ctx)
            print(f"Demo-Veranstaltung:  {base}/e/{demo.DEMO_SLUG}")
            print(f"Moderation:          {base}/e/{demo.DEMO_SLUG}/moderate")
            password = await demo.ensure_demo_admin(ctx)
            if password is not None:
                shown = f"Name '{demo.DEMO_ADMIN}', Passwort '{password}'"
                print(f"Demo-Moderator:      {shown} (nur dieses eine Mal angezeigt)")
        return 0

    app = create_app(settings)  # first, so that a wrong setting ends here with a clear message
    asyncio.run(_with_context(settings, prepare))
    sys.stdout.flush()
    # serve, not uvicorn.run: on shutdown live connections are closed with 1001 (going away), not cut off.
    options = {"host": args.host, "port": args.port, "log_level": settings.log_level, "access_log": settings.access_log}
    options["log_format"] = settings.log_format
    if args.workers == 1:
        serve.run(app, **options)
        return 0
    # Worker processes are started fresh and build their app from the environment. The database is migrated (and
    # the demo prepared) above, once, before any of them starts.
    os.environ["SMARTRLP_DB"] = settings.db_path
    serve.run_workers(args.workers, **options)
    return 0


def cmd_moderator_add(args: argparse.Namespace) -> int:
    password = _read_password(f"Passwort für {args.name}: ")

    async def work(ctx: Context) -> int:
        event_ids = await users.event_ids_by_slug(ctx, args.event or [])
        moderator = await users.create_account(ctx, args.name, password, role=args.role, event_ids=event_ids)
        # An admin moderates every event, whatever --event said (as in /admin/users).
        scope = ", ".join(args.event) if args.event and moderator.role != "admin" else "alle Veranstaltungen"
        print(f"Moderator {moderator.name!r} ({moderator.role}) angelegt für {scope}.")
        return 0

    return asyncio.run(_with_context(_settings(args), work))


def cmd_admin_add(args: argparse.Namespace) -> int:
    """The first administrator (or another): a moderator with role admin, who may use /admin."""
    args.role = "admin"
    args.event = None
    return cmd_moderator_add(args)


def cmd_token_create(args: argparse.Namespace) -> int:
    async def work(ctx: Context) -> int:
        token = await accounts.create_token(ctx, args.name, args.label)
        print(f"Token für {args.name!r} (nur dieses eine Mal angezeigt):")
        print(token)
        return 0

    return asyncio.run(_with_context(_settings(args), work))


def cmd_token_list(args: argparse.Namespace) -> int:
    async def work(ctx: Context) -> int:
        rows = await accounts.list_tokens(ctx, args.name)
        shown = [r for r in rows if args.all or r["revoked_at"] is None]
        if not shown:
            print("Keine Tokens." if not rows else "Keine gültigen Tokens (--all zeigt auch widerrufene).")
            return 0
        print("id\tModerator\tBezeichnung\terstellt\tzuletzt benutzt\twiderrufen")
        for row in shown:
            cells = [row["id"], row["moderator"], row["label"] or "-", row["created_at"]]
            cells += [row["last_used_at"] or "nie", row["revoked_at"] or "-"]
            print("\t".join(str(cell) for cell in cells))
        return 0

    return asyncio.run(_with_context(_settings(args), work))


def cmd_token_revoke(args: argparse.Namespace) -> int:
    async def work(ctx: Context) -> int:
        row = await accounts.revoke_token(ctx, args.id)
        print(f"Token {row['id']} von {row['moderator']!r} widerrufen; es gilt ab sofort nicht mehr.")
        return 0

    return asyncio.run(_with_context(_settings(args), work))


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.what is not None and args.format != "csv":
        print("smartrlp: --what applies to --format csv only; the JSON holds everything.", file=sys.stderr)
        return 2
    # Exporting only reads: a mistyped --db must not leave a new, empty database behind.
    if settings.db_path != ":memory:" and not Path(settings.db_path).exists():
        print(f"smartrlp: There is no database at {settings.db_path}.", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        try:
            data = await export.build_export(db, args.slug)
        except ApiError as exc:
            print(f"smartrlp: {exc.message}", file=sys.stderr)
            return 2
        body = export.render_export(data, args.format, args.what or "questions").body
        if args.output is None:
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
            return 0
        try:
            await asyncio.to_thread(Path(args.output).write_bytes, body)
        except OSError as exc:
            print(f"smartrlp: Cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
        return 0

    return asyncio.run(_with_db(settings, work))


def cmd_purge(args: argparse.Namespace) -> int:
    if args.days is not None and args.days < 1:
        raise SettingsError(f"--days must be positive, not {args.days}")
    settings = Settings.from_env(db_path=args.db, retention_days=args.days)
    # A mistyped --db must not leave a new, empty database behind.
    if settings.db_path != ":memory:" and not Path(settings.db_path).exists():
        print(f"smartrlp: There is no database at {settings.db_path}.", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        days = settings.retention_days
        slugs = await retention.purge(db, datetime.now(UTC), days)
        for slug in slugs:
            print(f"Namen und Gerätekennungen entfernt: {slug}")
        count = f"{len(slugs)} Veranstaltung{'' if len(slugs) == 1 else 'en'}" if slugs else "Keine Veranstaltung"
        print(f"{count} bereinigt (Aufbewahrungsfrist {days} Tag{'' if days == 1 else 'e'} nach dem Ende).")
        return 0

    return asyncio.run(_with_db(settings, work))


def build_parser() -> argparse.ArgumentParser:
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument("--db", help="SQLite file (default: $SMARTRLP_DB or ./smartrlp.db)")
    parser = argparse.ArgumentParser(prog="smartrlp", description="Smart RLP Live: live Q&A for public events")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[db_option], help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create the demo event 'smart-rlp' if missing")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; more need SMARTRLP_BROKER)"
    )
    serve.set_defaults(handler=cmd_serve)

    moderator = commands.add_parser("moderator", help="manage moderators").add_subparsers(dest="action", required=True)
    add = moderator.add_parser("add", parents=[db_option], help="add a moderator (password from prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="moderator")
    add.add_argument(
        "--event", action="append", metavar="SLUG", help="restrict to this event (repeatable); default: every event"
    )
    add.set_defaults(handler=cmd_moderator_add)

    admin = commands.add_parser("admin", help="manage administrators").add_subparsers(dest="action", required=True)
    admin_add = admin.add_parser(
        "add", parents=[db_option], help="add an administrator (password from prompt or stdin)"
    )
    admin_add.add_argument("name")
    admin_add.set_defaults(handler=cmd_admin_add)

    token = commands.add_parser("token", help="manage bearer tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", parents=[db_option], help="create a bearer token for a moderator")
    create.add_argument("name")
    create.add_argument("--label", default="")
    create.set_defaults(handler=cmd_token_create)
    listing = token.add_parser("list", parents=[db_option], help="list the tokens (never the tokens themselves)")
    listing.add_argument("name", nargs="?", help="only this moderator's tokens")
    listing.add_argument("--all", action="store_true", help="revoked tokens too")
    listing.set_defaults(handler=cmd_token_list)
    revoke = token.add_parser("revoke", parents=[db_option], help="revoke a token by its id (from token list)")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=cmd_token_revoke)

    export_parser = commands.add_parser(
        "export", parents=[db_option], help="export an event's questions and poll results (to stdout by default)"
    )
    export_parser.add_argument("slug")
    export_parser.add_argument("--format", choices=export.FORMATS, required=True)
    export_parser.add_argument(
        "--what", choices=CSV_PARTS, help="with --format csv: questions (default) or polls"
    )
    export_parser.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    export_parser.set_defaults(handler=cmd_export)

    purge = commands.add_parser(
        "purge", parents=[db_option], help="remove names and device ids of events that ended long enough ago"
    )
    purge.add_argument("--days", type=int, help="retention in days (default: $SMARTRLP_RETENTION_DAYS or 30)")
    purge.set_defaults(handler=cmd_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except (accounts.AccountError, SettingsError) as exc:
        print(f"smartrlp: {exc}", file=sys.stderr)
        return 2
