"""glmv's reward server as an EasyR1 batch reward function.

EasyR1 (hiyouga/EasyR1, verl/workers/reward/function.py, read at commit 46c6c210) loads
`worker.reward.reward_function: <file>.py:<name>` and, with `reward_type: batch`, calls
`compute_score(reward_inputs, **reward_function_kwargs)` once per rollout batch. Each input is
`{"response": str, "response_length": int, "ground_truth": str}`; each result must be a dict with `overall` (the
reward) and, by convention, `format` and `accuracy`. Every key of every result is averaged into a `reward/<key>`
metric, so all results carry the same float keys.

EasyR1 passes neither prompt nor image: the glmv domain travels in `ground_truth`, as a JSON label string
`{"domain": "counting", "answer": "3", "question"?, "options"?, "style"?, "answerFormat"?, "verifiable"?}`.
A plain (non-JSON) ground truth is the answer, scored in the domain GLMV_EASYR1_DOMAIN (default math).

One `POST /v1/score` per call. A 4xx (wrong token, bad label) raises `GlmvRequestError` with the server's message.
Connection errors, client timeouts and 5xx are retried with backoff (0.5 s, 1 s, ...); if the server still cannot
answer, `GlmvServerUnavailable` is raised: a silent 0 would be trained on. An item the server stopped at its
`--deadline-ms` is a result: overall 0, `timed_out` 1. Standard library only.

Environment: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN, GLMV_REWARD_TIMEOUT_S (60),
GLMV_REWARD_RETRIES (tries, default 3), GLMV_STYLE (4.1v | 4.5v; default: the server's), GLMV_EASYR1_DOMAIN (math),
GLMV_SPECIAL_TOKENS (stripped | kept; stripped matches EasyR1's `skip_special_tokens: true`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

BACKOFF_S = 0.5
LABEL_KEYS = ("question", "options", "style", "answerFormat", "verifiable")


def _settings() -> dict[str, Any]:
    """Read per call, so a test (or a Ray worker) can change the environment after import."""
    return {
        "url": os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/"),
        "token": os.environ.get("GLMV_SERVE_TOKEN"),
        "timeout_s": float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60")),
        "retries": max(1, int(os.environ.get("GLMV_REWARD_RETRIES", "3"))),
        "style": os.environ.get("GLMV_STYLE"),
        "domain": os.environ.get("GLMV_EASYR1_DOMAIN", "math"),
        "special_tokens": os.environ.get("GLMV_SPECIAL_TOKENS", "stripped"),
    }


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx): a wrong token or a bad label. Retrying cannot help."""

    def __init__(self, status: int, code: str, message: str, field: str | None):
        where = f" (field {field})" if field and field not in message else ""
        super().__init__(f"glmv reward server refused the request: HTTP {status} {code}: {message}{where}")
        self.status, self.code, self.message, self.field = status, code, message, field


class GlmvServerUnavailable(RuntimeError):
    """No answer after GLMV_REWARD_RETRIES tries (connection refused, timeout, HTTP 5xx)."""


def _server_error(e: urllib.error.HTTPError) -> tuple[str, str, str | None]:
    """The server's `{"error": {"code", "message", "field"}}`, or the raw body when it is not that."""
    raw = e.read()
    try:
        error = json.loads(raw)["error"]
        return str(error.get("code", "")), str(error.get("message", "")), error.get("field")
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", raw[:500].decode("utf-8", "replace"), None


def _post(settings: dict[str, Any], path: str, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if settings["token"]:
        headers["authorization"] = f"Bearer {settings['token']}"
    last = ""
    for attempt in range(settings["retries"]):
        if attempt > 0:
            time.sleep(BACKOFF_S * attempt)
        try:
            req = urllib.request.Request(settings["url"] + path, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=settings["timeout_s"]) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            code, message, field = _server_error(e)
            if e.code < 500:  # the request itself is wrong: retrying will not help
                raise GlmvRequestError(e.code, code, message, field) from e
            last = f"HTTP {e.code} {code}: {message}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last = str(getattr(e, "reason", e))
    raise GlmvServerUnavailable(
        f"glmv reward server at {settings['url']} did not answer after {settings['retries']} tries: {last}"
    )


def _label(ground_truth: Any, default_domain: str) -> dict[str, Any]:
    """EasyR1's ground truth: a JSON label string (or an already-parsed dict), else the plain answer."""
    label = ground_truth
    if isinstance(ground_truth, str) and ground_truth.lstrip().startswith("{"):
        try:
            label = json.loads(ground_truth)
        except ValueError:
            label = ground_truth  # not JSON after all: a literal answer that starts with "{"
    if not isinstance(label, dict):
        return {"domain": default_domain, "answer": str(ground_truth)}
    out: dict[str, Any] = {"domain": label.get("domain", default_domain), "answer": str(label.get("answer", ""))}
    for key in LABEL_KEYS:
        if key in label:
            out[key] = label[key]
    return out


def _to_easyr1(result: dict) -> dict[str, float]:
    return {
        "overall": float(result["reward"]),
        "format": 1.0 if result["format"] == "ok" else 0.0,
        "accuracy": 1.0 if result["correct"] else 0.0,
        "timed_out": 1.0 if result["timedOut"] else 0.0,
    }


def compute_score(reward_inputs: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, float]]:
    """EasyR1 `reward_type: batch`: one request for the batch, one result per input, in order."""
    if not isinstance(reward_inputs, list):
        raise ValueError("glmv_easyr1.compute_score is a batch reward function: set worker.reward.reward_type=batch")
    if not reward_inputs:
        return []
    settings = _settings()
    items = [
        {"id": i, "response": r["response"], **_label(r["ground_truth"], settings["domain"])}
        for i, r in enumerate(reward_inputs)
    ]
    payload: dict[str, Any] = {"items": items, "specialTokens": settings["special_tokens"]}
    if settings["style"]:
        payload["style"] = settings["style"]
    results = _post(settings, "/v1/score", payload)["results"]
    by_id = {r["id"]: r for r in results}
    return [_to_easyr1(by_id[i]) for i in range(len(items))]


if __name__ == "__main__":
    # Smoke test against a running `glmv serve reward`.
    print(compute_score([
        {"response": "I count one, two, three.\n3", "response_length": 9, "ground_truth": '{"domain": "counting", "answer": "3"}'},
        {"response": "<think>48+24</think> \\boxed{72}", "response_length": 9, "ground_truth": "72"},
    ]))
