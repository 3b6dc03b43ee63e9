"""Fault injection: latency, throttling, server errors, timeouts and dropped connections.

Whether a request fails is decided by a hash of ``(seed, method, path+query, attempt)``, where
``attempt`` counts how many times the lab has seen that exact request. The same seed gives
the same answers to the same requests whatever order concurrent clients send them in. Blob
URLs count by path alone (their SAS query holds times), and the lab's operation ids are
derived from the request that started them, so polls reproduce too.
Faults apply to ARM calls and to the boot-diagnostics blobs, not to other lab paths.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from kit.errors import UsageError

__all__ = ["FAULT_KINDS", "FaultPlan", "Faults", "fault_middleware"]

FAULT_KINDS = ("429", "500", "503", "timeout", "reset")
_FAULTED_PREFIXES = ("/subscriptions/", "/providers/", "/bootdiagnostics/")
_BODIES = {
    "429": ("TooManyRequests", "The request is being throttled as the limit has been reached for operation type "
                               "- Read_ObservationWindow_00:05:00. Retry after the time in the Retry-After header."),
    "500": ("InternalServerError", "Encountered internal server error. Diagnostic information: timestamp "
                                   "'{when}', subscription id '', tracking id '{tracking}', request correlation id "
                                   "'{tracking}'."),
    "503": ("ServiceUnavailable", "The service is temporarily unavailable. Please retry the request later."),
}


@dataclass(frozen=True)
class Faults:
    """What to inject.

    Parameters
    ----------
    latency
        Seconds added before every answer.
    error_rate
        Fraction (0–1) of requests that fail.
    kinds
        The failures to choose from: ``"429"`` (with ``Retry-After``), ``"500"``, ``"503"``,
        ``"timeout"`` (the answer is held ``timeout_seconds``) and ``"reset"`` (the TCP
        connection is aborted).
    retry_after
        Seconds sent in ``Retry-After`` with a 429.
    timeout_seconds
        How long a ``"timeout"`` holds the answer; set it above the client's read timeout.
    seed
        Changes which requests fail, reproducibly.

    Raises
    ------
    UsageError
        When a value is out of range or a kind is unknown.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: int = 1
    timeout_seconds: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.latency, int | float) and math.isfinite(self.latency) and self.latency >= 0):
            raise UsageError(f"fault latency must be a number of seconds >= 0, got {self.latency!r}")
        if not (isinstance(self.error_rate, int | float) and 0 <= self.error_rate <= 1):
            raise UsageError(f"fault error rate must be between 0 and 1, got {self.error_rate!r}")
        kinds = tuple(str(kind) for kind in self.kinds)
        unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
        if unknown or not kinds:
            raise UsageError(f"unknown fault kind(s) {unknown or '(none given)'}; choose from {', '.join(FAULT_KINDS)}")
        object.__setattr__(self, "kinds", kinds)
        if not isinstance(self.retry_after, int) or self.retry_after < 0:
            raise UsageError(f"retry_after must be whole seconds >= 0, got {self.retry_after!r}")
        if not (isinstance(self.timeout_seconds, int | float) and self.timeout_seconds > 0):
            raise UsageError(f"timeout_seconds must be > 0, got {self.timeout_seconds!r}")
        if not isinstance(self.seed, int):
            raise UsageError(f"fault seed must be an integer, got {self.seed!r}")


class FaultPlan:
    """Decides, request by request, which fault (if any) :class:`Faults` calls for.

    Parameters
    ----------
    faults
        The configuration.
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._seen: Counter[tuple[str, str]] = Counter()

    def decide(self, method: str, path_qs: str) -> str | None:
        """The fault kind for this attempt of ``method path_qs``, or ``None`` to answer normally."""
        key = (method.upper(), path_qs)
        attempt = self._seen[key]
        self._seen[key] += 1
        if self.faults.error_rate <= 0:
            return None
        digest = hashlib.sha256(f"{self.faults.seed}\n{key[0]}\n{path_qs}\n{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.faults.error_rate:
            return None
        return self.faults.kinds[int.from_bytes(digest[8:12], "big") % len(self.faults.kinds)]


def fault_middleware(plan_of: Callable[[web.Request], FaultPlan]) -> Middleware:
    """An aiohttp middleware applying the plan ``plan_of(request)`` returns."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(_FAULTED_PREFIXES):
            return await handler(request)
        plan = plan_of(request)
        faults = plan.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        key = request.path if request.path.startswith("/bootdiagnostics/") else request.path_qs
        kind = plan.decide(request.method, key)
        if kind is None:
            return await handler(request)
        if kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if kind == "timeout":
            await asyncio.sleep(faults.timeout_seconds)
            kind = "503"
        code, message = _BODIES[kind]
        tracking = hashlib.sha256(f"{faults.seed}{request.path_qs}".encode()).hexdigest()[:32]
        tracking = f"{tracking[:8]}-{tracking[8:12]}-{tracking[12:16]}-{tracking[16:20]}-{tracking[20:]}"
        body = {"error": {"code": code, "message": message.format(when="now", tracking=tracking)}}
        headers = {"Retry-After": str(faults.retry_after)} if kind == "429" else {}
        return web.Response(status=int(kind), text=json.dumps(body), content_type="application/json", headers=headers)

    return middleware
