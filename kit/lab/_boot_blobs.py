"""Boot-diagnostics blobs as Azure Storage serves them: SAS-signed URLs, the signature check, the blob.

A VM's and a scale-set instance's ``retrieveBootDiagnosticsData`` both answer with two read-only
SAS URLs (``<name>.serialconsole.log``, ``<name>.screenshot.bmp``) signed with the lab's blob
secret; the blob routes check the signature and expiry first, as Storage does, with its XML errors.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import urllib.parse
import uuid

from aiohttp import web

from kit.lab._screens import render_bmp, screen_for
from kit.lab._state import LabState
from kit.times import parse_time, utc_now

__all__ = ["LOG", "SHOT", "blob_answer", "expiry_of", "refused", "signed_urls", "split_blob"]

_SAS_VERSION = "2022-11-02"
LOG, SHOT = "serialconsole.log", "screenshot.bmp"


def expiry_of(raw_minutes: str) -> dt.datetime | None:
    """When the URLs expire, from ``sasUriExpirationTimeInMinutes`` (1–1440); ``None`` when invalid."""
    if not raw_minutes.isdigit() or not 1 <= int(raw_minutes) <= 1440:
        return None
    return utc_now() + dt.timedelta(minutes=int(raw_minutes))


def signed_urls(state: LabState, folder: str, name: str, expiry: dt.datetime) -> dict[str, str]:
    """The ``retrieveBootDiagnosticsData`` body: the screenshot's and the serial log's SAS URLs."""
    return {"consoleScreenshotBlobUri": _signed_url(state, f"{folder}/{name}.{SHOT}", expiry),
            "serialConsoleLogBlobUri": _signed_url(state, f"{folder}/{name}.{LOG}", expiry)}


def refused(state: LabState, request: web.Request, path: str) -> web.Response | None:
    """Storage's 403 when the request's SAS does not sign ``path`` or has expired; ``None`` when it is good."""
    expiry = request.query.get("se", "")
    if not hmac.compare_digest(request.query.get("sig", ""), _sign(state, path, expiry)):
        return _storage_error(403, "AuthenticationFailed",
                              "Server failed to authenticate the request. Make sure the value of Authorization "
                              "header is formed correctly including the signature.")
    expires = parse_time(expiry) or dt.datetime.min.replace(tzinfo=dt.UTC)
    if expires < utc_now():
        return _storage_error(403, "AuthenticationFailed",
                              "Server failed to authenticate the request. Signature not valid in the specified "
                              f"time frame: Start [] - Expiry [{expiry}] - Current [{_now_text()}]")
    return None


def split_blob(blob: str) -> tuple[str, str]:
    """``("sched-01", LOG)`` for ``sched-01.serialconsole.log``; the kind is ``""`` for any other name."""
    kind = next((suffix for suffix in (LOG, SHOT) if blob.endswith(f".{suffix}")), "")
    return (blob[: -len(kind) - 1] if kind else blob), kind


def blob_answer(state: LabState, resource_id: str, kind: str) -> web.Response:
    """The serial log or the screenshot of ``resource_id`` (drawn from its current screen), or Storage's 404."""
    if kind == LOG and resource_id.lower() in state.serial_logs:
        return _blob(state.serial_logs[resource_id.lower()].read_bytes(), "text/plain")
    if kind == SHOT and (body := state.get(resource_id)) is not None:
        return _blob(render_bmp(screen_for(state, body)), "image/bmp")
    return _storage_error(404, "BlobNotFound", "The specified blob does not exist.")


def _signed_url(state: LabState, path: str, expiry: dt.datetime) -> str:
    se = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    query = urllib.parse.urlencode({"sv": _SAS_VERSION, "st": _now_text(), "se": se, "sr": "b", "sp": "r",
                                    "sig": _sign(state, path, se)})
    return f"{state.endpoint}{urllib.parse.quote(path)}?{query}"


def _sign(state: LabState, path: str, expiry: str) -> str:
    digest = hmac.new(state.blob_secret, f"{path}\n{expiry}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _blob(data: bytes, content_type: str) -> web.Response:
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": _SAS_VERSION, "x-ms-request-id": str(uuid.uuid4())}
    return web.Response(body=data, content_type=content_type, headers=headers)


def _storage_error(status: int, code: str, message: str) -> web.Response:
    request_id = uuid.uuid4()
    text = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}\nRequestId:{request_id}\nTime:{_now_text()}</Message></Error>")
    return web.Response(status=status, text=text, content_type="application/xml",
                        headers={"x-ms-error-code": code, "x-ms-request-id": str(request_id)})
