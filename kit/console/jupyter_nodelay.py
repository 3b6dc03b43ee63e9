"""A Jupyter server extension that sends websocket frames at once (``TCP_NODELAY``).

jupyter_server never turns Nagle's algorithm off on its websockets, so a small kernel message
(a keystroke's echo) that follows another one can wait for the browser's delayed ACK, about
40 ms on Linux. The console widget's keystroke-to-echo time then sits at 25–75 ms instead of a
few. ``kit train start`` enables it; enable it on any other JupyterLab you use for serial consoles::

    jupyter lab --ServerApp.jpserver_extensions=kit.console.jupyter_nodelay=True

or in ``jupyter_server_config.json``: ``{"ServerApp": {"jpserver_extensions":
{"kit.console.jupyter_nodelay": true}}}``. It changes nothing else: every websocket the server
accepts after loading gets ``IOStream.set_nodelay(True)`` (tornado's own switch for this).
"""

from __future__ import annotations

from typing import Any

__all__ = ["enable_nodelay"]

_PATCHED = "_kit_nodelay"


def enable_nodelay() -> None:
    """Make every tornado websocket opened from now on send without delay (idempotent)."""
    from tornado.websocket import WebSocketHandler

    if getattr(WebSocketHandler, _PATCHED, False):
        return
    detach = WebSocketHandler._detach_stream  # where tornado hands the socket to the websocket protocol

    def _detach_stream(self: WebSocketHandler) -> Any:
        stream = detach(self)
        stream.set_nodelay(True)
        return stream

    WebSocketHandler._detach_stream = _detach_stream  # type: ignore[method-assign]
    setattr(WebSocketHandler, _PATCHED, True)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "kit.console.jupyter_nodelay"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    enable_nodelay()
    serverapp.log.info("kit.console.jupyter_nodelay: websocket frames are sent without Nagle delay")
