"""The yardstick, not part of Smart RLP Live: a bare `websockets.broadcast` server.

Every connection gets a short hello (as our viewers get a snapshot) and then whatever a connection to
`/control` sends, through `websockets.broadcast` to all other connections. No compression, uvloop, the
websockets library's defaults otherwise (keepalive pings included), like the server it is compared with.

    python bench/baseline_server.py PORT
"""

from __future__ import annotations

import resource
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

VIEWERS: set[ServerConnection] = set()


async def handler(websocket: ServerConnection) -> None:
    if websocket.request is not None and websocket.request.path == "/control":
        async for message in websocket:
            broadcast(VIEWERS, message)
        return
    VIEWERS.add(websocket)
    try:
        await websocket.send('{"type":"hello"}')
        async for _ in websocket:
            pass
    finally:
        VIEWERS.discard(websocket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=2048) as server:
        await server.serve_forever()


if __name__ == "__main__":
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(main(int(sys.argv[1])))
