"""glmv's reward server as a TRL GRPOTrainer reward function.

    from glmv_reward import glmv_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[glmv_reward], train_dataset=dataset, ...)

TRL passes every dataset column except `prompt` as a keyword argument. This function reads `answer` (or
`ground_truth`) and `domain`, and optionally `question`, `options`, `style`, `answerFormat` ("glmv" | "gsm8k" |
"boxed", see ../verl/README.md). Rows whose `domain` is not a glmv domain get `None` ("not applicable"), so glmv can
share a run with other reward functions.

TRL decodes completions with special tokens skipped, so the server is asked for `specialTokens: "stripped"`
(see ../verl/README.md for what glmv does with stripped text). Standard library only.

Errors: a 4xx (wrong token, a bad row) raises `GlmvRequestError` with the server's message. Connection errors,
timeouts and 5xx are retried with backoff, then raise `GlmvServerUnavailable`: TRL has no column to flag a missing
reward, and a silent 0 would train on it.

Environment: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN, GLMV_REWARD_TIMEOUT_S (60),
GLMV_STYLE (4.1v | 4.5v; default: the server's --style), GLMV_REWARD_RETRIES (tries, default 3).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN")
TIMEOUT_S = float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60"))
STYLE = os.environ.get("GLMV_STYLE")
RETRIES = max(1, int(os.environ.get("GLMV_REWARD_RETRIES", "3")))
BACKOFF_S = 0.5
GLMV_DOMAINS = {"math", "physics", "chemistry", "chart", "ocr", "counting", "choice", "text", "grounding", "gui"}


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx): a wrong token or a bad row. Retrying cannot help."""

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


def _post(path: str, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if TOKEN:
        headers["authorization"] = f"Bearer {TOKEN}"
    last = ""
    for attempt in range(RETRIES):
        if attempt > 0:
            time.sleep(BACKOFF_S * attempt)
        try:
            req = urllib.request.Request(URL + path, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            code, message, field = _server_error(e)
            if e.code < 500:  # the request itself is wrong: retrying will not help
                raise GlmvRequestError(e.code, code, message, field) from e
            last = f"HTTP {e.code} {code}: {message}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last = str(getattr(e, "reason", e))
    raise GlmvServerUnavailable(f"glmv reward server at {URL} did not answer after {RETRIES} tries: {last}")


def _text(completion: Any) -> str:
    """A completion is a string, or (conversational datasets) a list of messages: take the assistant's text."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content", "")
        if isinstance(content, list):  # multimodal content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(content)
    return "".join(parts)


def _column(kwargs: dict, name: str, i: int) -> Any:
    values = kwargs.get(name)
    return None if values is None else values[i]


def glmv_reward(prompts, completions, **kwargs) -> list[float | None]:
    answers = kwargs.get("answer") or kwargs.get("ground_truth")
    if answers is None:
        raise ValueError("glmv_reward needs an 'answer' (or 'ground_truth') column in the dataset")
    items, slots = [], []
    for i, completion in enumerate(completions):
        domain = _column(kwargs, "domain", i)
        if domain not in GLMV_DOMAINS:
            continue
        item = {"id": i, "domain": domain, "answer": str(answers[i]), "response": _text(completion)}
        for key in ("question", "options", "style", "answerFormat"):
            value = _column(kwargs, key, i)
            if value is not None:
                item[key] = value
        items.append(item)
        slots.append(i)
    rewards: list[float | None] = [None] * len(completions)
    if not items:
        return rewards
    payload: dict[str, Any] = {"items": items, "specialTokens": "stripped"}
    if STYLE:
        payload["style"] = STYLE
    results = _post("/v1/score", payload)["results"]
    log_metric = kwargs.get("log_metric")
    if callable(log_metric):
        log_metric("glmv/timeouts", float(sum(1 for r in results if r["timedOut"])))
        log_metric("glmv/format_ok", sum(1.0 for r in results if r["format"] == "ok") / len(results))
    for slot, result in zip(slots, results):
        rewards[slot] = float(result["reward"])
    return rewards


if __name__ == "__main__":
    # Smoke test against a running `glmv serve reward`.
    print(glmv_reward(["q", "q", "q"], ["I count three.\n3", "Four?\n4", "n/a"], answer=["3", "3", "x"],
                      domain=["counting", "counting", "other"]))
