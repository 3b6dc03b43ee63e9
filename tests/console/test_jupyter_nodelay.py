"""The ``kit.console.jupyter_nodelay`` server extension: websockets accepted afterwards send without Nagle delay."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from kit.console.jupyter_nodelay import _jupyter_server_extension_points

# Run in a fresh interpreter: the extension patches tornado process-wide, and a tornado server
# inside a test worker can bind to an event loop an earlier test left behind.
_SCENARIO = textwrap.dedent(
    """
    import asyncio, socket
    from tornado.httpserver import HTTPServer
    from tornado.web import Application
    from tornado.websocket import WebSocketHandler, websocket_connect
    from kit.console.jupyter_nodelay import enable_nodelay

    seen = []

    class Echo(WebSocketHandler):
        def open(self):
            seen.append(self.ws_connection.stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def scenario():
        enable_nodelay()
        enable_nodelay()  # idempotent
        server = HTTPServer(Application([("/ws", Echo)]))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        server.add_sockets([sock])
        client = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{sock.getsockname()[1]}/ws"), 20)
        await asyncio.sleep(0.1)
        client.close()
        server.stop()

    asyncio.run(scenario())
    print("nodelay", seen)
    """
)


def test_websockets_accepted_after_loading_have_tcp_nodelay() -> None:
    done = subprocess.run([sys.executable, "-c", _SCENARIO], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("nodelay [") and "[0]" not in done.stdout and "[]" not in done.stdout


def test_it_is_a_jupyter_server_extension() -> None:
    assert _jupyter_server_extension_points() == [{"module": "kit.console.jupyter_nodelay"}]
