"""JSON over HTTP with retries, shared by the plug-ins. A 4xx raises `GlmvRequestError` (retrying cannot fix a
wrong token or a bad item); connection errors, timeouts and 5xx are retried with backoff, then
`GlmvServerUnavailable` (callers decide what that means: a documented reward, or an error)."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx)."""

    def __init__(self, url: str, status: int, code: str, message: str):
        super().__init__(f"glmv server at {url} refused the request: HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class GlmvServerUnavailable(RuntimeError):
    """No answer after all tries; `timed_out` is True when the last try ran past the timeout."""

    def __init__(self, message: str, timed_out: bool):
        super().__init__(message)
        self.timed_out = timed_out


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _error_of(e: urllib.error.HTTPError) -> tuple[str, str]:
    raw = e.read()
    try:
        error = json.loads(raw)["error"]
        return str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", raw[:500].decode("utf-8", "replace")


def request_json(
    url: str,
    payload: dict | None = None,
    *,
    token: str | None = None,
    timeout_s: float = 60.0,
    tries: int = 3,
    backoff_s: float = 0.5,
) -> Any:
    """POST `payload` (GET when None) to `url` and return the parsed JSON answer."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = None if payload is None else json.dumps(payload).encode()
    last, timed_out = "", False
    for attempt in range(max(1, tries)):
        if attempt > 0:
            time.sleep(backoff_s * attempt)
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="GET" if body is None else "POST")
            with urllib.request.urlopen(req, timeout=timeout_s) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            code, message = _error_of(e)
            if e.code < 500:
                raise GlmvRequestError(url, e.code, code, message) from e
            last, timed_out = f"HTTP {e.code} {code}: {message}", False
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            timed_out = isinstance(reason, (TimeoutError, socket.timeout))
            last = f"timed out after {timeout_s}s" if timed_out else str(reason)
    raise GlmvServerUnavailable(f"glmv server at {url} did not answer after {max(1, tries)} tries: {last}", timed_out)
