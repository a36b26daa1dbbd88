"""One declaration per API endpoint: its route, typed body and query, response model and the statuses it answers.

`Endpoints` is a feature's router. A view is written as

    api = Endpoints("questions")

    @api.post("/api/events/{slug}/questions", body=AskQuestion, response=Question, status=201, errors=(409,),
              rate_limited=True)
    async def ask_question(request: Request, event: Row, body: AskQuestion) -> dict[str, Any]:
        ...

and the wrapper does the prologue every handler used to repeat, in one order: the event of the path or 404, the
moderator of that event or 401/403 (`moderator=True`), then the body (415, 400, 413, 422) and the query (422). It
passes only the arguments the handler names (`event`, `moderator`, `body`, `query`) and turns a returned dict into
JSON with the declared status (None into 204). The same declaration feeds `/openapi.json` (smartrlp/web/openapi.py).

`live="ballot"` also offers the endpoint as a message on the live websocket (smartrlp/web/views/live.py): the
message carries the body's fields and the path's ids, and `answer_live` runs the same prologue and handler with
the connection's device and address, giving back the status and JSON body the HTTP request would have got.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from smartrlp.core import metrics
from smartrlp.core.errors import ApiError
from smartrlp.models.base import Body, parse
from smartrlp.services import events
from smartrlp.web.auth import require_moderator
from smartrlp.web.http import app_state, read_json

Handler = Callable[..., Awaitable[Any]]

log = logging.getLogger("smartrlp")


@dataclass(frozen=True, slots=True)
class Spec:
    """What `/openapi.json` says of one endpoint; the wrapper enforces the same."""

    method: str
    path: str
    handler: Handler
    tag: str
    body: type[Body] | None
    query: type[Body] | None
    response: type[BaseModel] | None
    status: int
    # Other success statuses with the same body (200 for "there already" beside 201 for "created").
    also: tuple[int, ...]
    errors: tuple[int, ...]
    moderator: bool
    rate_limited: bool
    loads_event: bool
    # What a successful answer is, when not JSON (a download): documented as such, with no model.
    media_type: str
    summary: str
    description: str
    # The message type that offers this endpoint on the live websocket, or "" (HTTP only).
    live: str = ""

    @property
    def path_ids(self) -> tuple[str, ...]:
        """The path's parameters other than the event's slug (`question_id`, `poll_id`)."""
        return _path_ids(self.path)

    @property
    def statuses(self) -> tuple[int, ...]:
        """Every status the endpoint can answer besides its own: declared ones plus those its prologue raises."""
        found = set(self.errors)
        if "{" in self.path:
            found.add(404)
        if self.moderator:
            found.update({401, 403})
        if self.body is not None:
            found.update({400, 413, 415, 422})
        if self.query is not None:
            found.add(422)
        if self.method != "GET":
            found.add(403)  # the cross-site guard and the CSRF check
        if self.rate_limited:
            found.add(429)
        found.add(503)  # the database stayed busy beyond its timeout
        return tuple(sorted(found))


class Endpoints:
    """The API routes of one feature, in declaration order."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        body: type[Body] | None = None,
        query: type[Body] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        also: Iterable[int] = (),
        errors: Iterable[int] = (),
        moderator: bool = False,
        rate_limited: bool = False,
        loads_event: bool = True,
        media_type: str = "application/json",
        live: str = "",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            doc = inspect.getdoc(handler) or ""
            summary, _, description = doc.partition("\n\n")
            spec = Spec(
                method=method,
                path=path,
                handler=handler,
                tag=self.tag,
                body=body,
                query=query,
                response=response,
                status=status,
                also=tuple(also),
                errors=tuple(errors),
                moderator=moderator,
                rate_limited=rate_limited,
                loads_event=loads_event,
                media_type=media_type,
                summary=" ".join(summary.split()),
                description=description.strip(),
                live=live,
            )
            if live:
                if LIVE_ACTIONS.get(live, spec).handler is not handler:
                    raise ValueError(f"live action {live!r} is declared twice")
                LIVE_ACTIONS[live] = spec
            self.routes.append(Route(path, _adapter(spec), methods=[method], name=handler.__name__))
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)


async def event_from_path(request: Request) -> Any:
    """The event named by the path's `{slug}`, or 404: the one place that loads it for routes and pages."""
    return await events.event_by_slug(app_state(request).db, request.path_params["slug"])


def _adapter(spec: Spec) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        body = await read_json(request) if spec.body is not None else None
        return await _run(spec, request, body)

    # /metrics: changes by kind and outcome (reads are not counted: the figure is about what people do).
    kind = spec.handler.__name__
    succeeded = metrics.ACTIONS.labels(kind, "ok")

    async def endpoint(request: Request) -> Response:
        if spec.method == "GET":
            return await answer(request)
        try:
            response = await answer(request)
        except ApiError as error:
            metrics.ACTIONS.labels(kind, error.code).inc()
            raise
        succeeded.inc()
        return response

    endpoint.spec = spec  # type: ignore[attr-defined]  # read by smartrlp.web.openapi
    return endpoint


@functools.cache
def _path_ids(path: str) -> tuple[str, ...]:
    return tuple(name for name in re.findall(r"{(\w+)}", path) if name != "slug")


@functools.cache
def _parameters(handler: Handler) -> frozenset[str]:
    return frozenset(inspect.signature(handler).parameters)


async def _run(spec: Spec, request: Request, body: dict[str, Any] | None) -> Response:
    result = await _call(spec, request, body)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return JSONResponse(result, status_code=spec.status)


async def _call(spec: Spec, request: Request, body: dict[str, Any] | None) -> Any:
    """The prologue and the handler: the same for an HTTP request and a live websocket message. The handler's
    answer: a Response, None (204) or the JSON-ready data for the declared status."""
    wanted = _parameters(spec.handler)
    arguments: dict[str, Any] = {}
    # `loads_event=False`: the handler finds the event itself, with what else it needs in the same query (ballots).
    event = await event_from_path(request) if "{slug}" in spec.path and spec.loads_event else None
    if "event" in wanted:
        arguments["event"] = event
    if spec.moderator:
        assert event is not None, f"{spec.path}: moderator endpoints belong to an event"
        moderator = await require_moderator(request, event["id"])
        if "moderator" in wanted:
            arguments["moderator"] = moderator
    if spec.body is not None:
        arguments["body"] = parse(spec.body, body if body is not None else {})
    if spec.query is not None:
        arguments["query"] = parse(spec.query, dict(request.query_params))
    result = await spec.handler(request, **arguments)
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


# The endpoints offered on the live websocket, by message type (filled by the declarations, `live=`).
LIVE_ACTIONS: dict[str, Spec] = {}


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """What an HTTP request would have been answered: status, JSON body (None for 204) and Retry-After."""

    status: int
    body: Any
    retry_after: int | None = None


def _path_value(value: Any) -> str | None:
    """A message's id as the path would carry it; None when it is missing. A non-id becomes text that the
    handler's own path check refuses (404), exactly as in a URL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value)


async def answer_live(spec: Spec, conn: HTTPConnection, message: dict[str, Any]) -> LiveAnswer:
    """Run the endpoint for a live websocket message, as the HTTP request with the same body would run.

    The message's fields other than `type`, `ref` and the path's ids are the body. The request is the
    websocket's own scope (device, address, cookies, the event's slug) with the endpoint's method and path,
    so handlers, limits and errors are the HTTP ones; ApiError becomes its status and `{"error": ...}` body,
    anything else a logged 500, as the HTTP error handlers do.
    """
    path_params = dict(conn.path_params)
    body = {key: value for key, value in message.items() if key not in {"type", "ref", *spec.path_ids}}
    try:
        for name in spec.path_ids:
            value = _path_value(message.get(name))
            if value is None:
                raise ApiError(422, "invalid", f"'{name}' is required.", details={"field": name})
            path_params[name] = value
        headers = list(conn.scope["headers"])
        if isinstance(message.get("ref"), str):
            # The ref names the action as `Idempotency-Key` does over HTTP: the page repeats it there if the reply
            # over the websocket never came, and an ask is then stored once.
            headers = [(k, v) for k, v in headers if k != b"idempotency-key"]
            headers.append((b"idempotency-key", message["ref"].encode()))
        scope = {
            **conn.scope,
            "headers": headers,
            "type": "http",
            "method": spec.method,
            "path": spec.path.format(**path_params),
            "path_params": path_params,
        }
        result = await _call(spec, Request(scope), body if spec.body is not None else None)
    except ApiError as error:
        metrics.ACTIONS.labels(spec.handler.__name__, error.code).inc()  # as over HTTP (_adapter)
        retry = error.headers.get("Retry-After")
        return LiveAnswer(error.status, error.body(), int(retry) if retry and retry.isdigit() else None)
    except Exception:
        log.exception("unexpected error on live %s %s", spec.method, spec.path)
        return LiveAnswer(500, {"error": {"code": "internal", "message": "Something went wrong on our side."}})
    metrics.ACTIONS.labels(spec.handler.__name__, "ok").inc()
    if result is None:
        return LiveAnswer(204, None)
    if isinstance(result, Response):  # a handler's own answer (200 instead of 201 for "there already")
        return LiveAnswer(result.status_code, json.loads(result.body) if result.body else None)
    # JSON-ready already (what JSONResponse would render); the reply encodes it once, with the message.
    return LiveAnswer(spec.status, result)


def specs_of(routes: Sequence[BaseRoute]) -> list[Spec]:
    """The declarations behind a route table (merged routes included), in order."""
    found = []
    for route in routes:
        for member in getattr(route, "group", [route]):
            spec = getattr(getattr(member, "endpoint", None), "spec", None)
            if spec is not None:
                found.append(spec)
    return found


def by_path(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """One route per path, whatever the number of methods: a 405 then names every method the path takes.

    Starlette answers 405 from the first route whose path matches, with that route's methods alone; features
    declare one route per method (and two features may share a path), so their routes are merged here.
    """
    merged: dict[str, list[Route]] = {}
    others: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.methods:
            merged.setdefault(route.path, []).append(route)
        else:
            others.append(route)
    result: list[BaseRoute] = []
    for path, group in merged.items():
        if len(group) == 1:
            result.append(group[0])
            continue
        result.append(_Dispatch(path, group))
    return [*result, *others]


class _Dispatch(Route):
    """A route that hands each method to the route declared for it."""

    def __init__(self, path: str, group: list[Route]) -> None:
        self.by_method: dict[str, Route] = {}
        for route in group:
            for method in route.methods or ():
                if method in self.by_method and method != "HEAD":
                    raise ValueError(f"{method} {path} is declared twice")
                self.by_method.setdefault(method, route)
        self.group = group

        async def dispatch(request: Request) -> Response:
            route = self.by_method[request.method]
            return await route.endpoint(request)

        super().__init__(path, dispatch, methods=sorted(self.by_method), name=group[0].name)
