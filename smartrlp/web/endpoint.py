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
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from smartrlp.core import metrics
from smartrlp.core.errors import ApiError
from smartrlp.models.base import Body, parse
from smartrlp.services import events
from smartrlp.web.auth import require_moderator
from smartrlp.web.http import app_state, read_json

Handler = Callable[..., Awaitable[Any]]


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
            )
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
    wanted = set(inspect.signature(spec.handler).parameters)
    # `loads_event=False`: the handler finds the event itself, with what else it needs in the same query (ballots).
    loads_event = "{slug}" in spec.path and spec.loads_event

    async def answer(request: Request) -> Response:
        arguments: dict[str, Any] = {}
        event = await event_from_path(request) if loads_event else None
        if "event" in wanted:
            arguments["event"] = event
        if spec.moderator:
            assert event is not None, f"{spec.path}: moderator endpoints belong to an event"
            moderator = await require_moderator(request, event["id"])
            if "moderator" in wanted:
                arguments["moderator"] = moderator
        if spec.body is not None:
            arguments["body"] = parse(spec.body, await read_json(request))
        if spec.query is not None:
            arguments["query"] = parse(spec.query, dict(request.query_params))
        result = await spec.handler(request, **arguments)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return JSONResponse(result, status_code=spec.status)

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
