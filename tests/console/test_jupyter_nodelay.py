"""The ``kit.console.jupyter_nodelay`` server extension: websockets accepted afterwards send without Nagle delay."""

from __future__ import annotations

import asyncio
import socket

from tornado.httpserver import HTTPServer
from tornado.web import Application
from tornado.websocket import WebSocketHandler, websocket_connect

from kit.console.jupyter_nodelay import _jupyter_server_extension_points, enable_nodelay


def test_websockets_accepted_after_loading_have_tcp_nodelay() -> None:
    seen: list[int] = []

    class Echo(WebSocketHandler):
        def open(self) -> None:
            sock = self.ws_connection.stream.socket  # type: ignore[union-attr]
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def scenario() -> None:
        enable_nodelay()
        enable_nodelay()  # idempotent
        server = HTTPServer(Application([("/ws", Echo)]))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        server.add_sockets([sock])
        client = await websocket_connect(f"ws://127.0.0.1:{sock.getsockname()[1]}/ws")
        await asyncio.sleep(0.1)
        client.close()
        server.stop()

    asyncio.run(scenario())
    assert seen and seen[0] != 0
    assert _jupyter_server_extension_points() == [{"module": "kit.console.jupyter_nodelay"}]
