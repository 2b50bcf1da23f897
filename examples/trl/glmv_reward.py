"""glmv's reward server as a TRL GRPOTrainer reward function.

    from glmv_reward import glmv_reward          # or glmv_reward_async: TRL gathers async reward functions
    trainer = GRPOTrainer(model=..., reward_funcs=[glmv_reward], train_dataset=dataset, ...)

Read from huggingface/trl (trl/trainer/grpo_trainer.py `_calculate_rewards`, TRL 0.2x–1.x): a custom reward function
is called as `reward_func(prompts=, completions=, completion_ids=, **reward_kwargs)`, where reward_kwargs holds every
dataset column except `prompt` (one value per completion: `answer`, `domain`, `image`, …) plus `trainer_state`,
`log_extra(column, values)` and `log_metric(name, value)`. A conversational dataset's completions are lists of
messages, `[{"role": "assistant", "content": …}]` (a prefilled assistant turn is already prepended; with tools, the
list holds the tool turns too): the last assistant message is scored. The result is `list[float | None]`; `None`
is "not applicable", so glmv can share a run with other reward functions.

This function reads `answer` (or `ground_truth` / `solution`) and `domain`, and optionally `question`, `options`,
`style`, `answerFormat` ("glmv" | "gsm8k" | "boxed", see ../verl/README.md). Rows whose `domain` is not a glmv
domain get `None`. Image columns are never sent: glmv scores the text. TRL decodes completions with special tokens
skipped, so the server is asked for `specialTokens: "stripped"`.

Errors: a 4xx (wrong token, a bad row) raises `GlmvRequestError` with the server's message. Connection errors,
client timeouts and 5xx are retried with backoff, then raise `GlmvServerUnavailable` (`timed_out` set when the last
try timed out): TRL has no column to flag a missing reward, and a silent 0 would be trained on. An item the server
stopped at its own deadline is reward 0, counted in the `glmv/timeouts` metric.

Environment, read per call: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN, GLMV_REWARD_TIMEOUT_S
(60), GLMV_STYLE (4.1v | 4.5v; default: the server's --style), GLMV_REWARD_RETRIES (tries, default 3).
Standard library only.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any

BACKOFF_S = 0.5
GLMV_DOMAINS = {"math", "physics", "chemistry", "chart", "ocr", "counting", "choice", "text", "grounding", "gui"}
ANSWER_COLUMNS = ("answer", "ground_truth", "solution")
ITEM_COLUMNS = ("question", "options", "style", "answerFormat")


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx): a wrong token or a bad row. Retrying cannot help."""

    def __init__(self, status: int, code: str, message: str, field: str | None):
        where = f" (field {field})" if field and field not in message else ""
        super().__init__(f"glmv reward server refused the request: HTTP {status} {code}: {message}{where}")
        self.status, self.code, self.message, self.field = status, code, message, field


class GlmvServerUnavailable(RuntimeError):
    """No answer after GLMV_REWARD_RETRIES tries (connection refused, timeout, HTTP 5xx)."""

    def __init__(self, message: str, timed_out: bool):
        super().__init__(message)
        self.timed_out = timed_out


def _settings() -> dict[str, Any]:
    """Read per call, so a test (or an accelerate worker) can change the environment after import."""
    return {
        "url": os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/"),
        "token": os.environ.get("GLMV_SERVE_TOKEN"),
        "timeout_s": float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60")),
        "style": os.environ.get("GLMV_STYLE"),
        "retries": max(1, int(os.environ.get("GLMV_REWARD_RETRIES", "3"))),
    }


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
    last, timed_out = "", False
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
            last, timed_out = f"HTTP {e.code} {code}: {message}", False
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            timed_out = isinstance(reason, (TimeoutError, socket.timeout))
            last = f"timed out after {settings['timeout_s']}s" if timed_out else str(reason)
    raise GlmvServerUnavailable(
        f"glmv reward server at {settings['url']} did not answer after {settings['retries']} tries: {last}", timed_out
    )


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # multimodal content parts: keep the text ones
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    return "" if content is None else str(content)


def _text(completion: Any) -> str:
    """A completion is a string, or (conversational datasets) a list of messages: the last assistant message."""
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        if message.get("role", "assistant") == "assistant":
            return _content_text(message.get("content"))
    return ""


def _column(kwargs: dict, name: str, i: int) -> Any:
    values = kwargs.get(name)
    return None if values is None else values[i]


def _answers(kwargs: dict) -> list:
    for name in ANSWER_COLUMNS:
        if kwargs.get(name) is not None:
            return kwargs[name]
    raise ValueError(f"glmv_reward needs one of the dataset columns {', '.join(ANSWER_COLUMNS)}; got {sorted(kwargs)}")


def glmv_reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
    """One `POST /v1/score` for the rows whose `domain` is a glmv domain; `None` for the others."""
    answers = _answers(kwargs)
    items, slots = [], []
    for i, completion in enumerate(completions):
        domain = _column(kwargs, "domain", i)
        if domain not in GLMV_DOMAINS:
            continue
        item = {"id": i, "domain": domain, "answer": str(answers[i]), "response": _text(completion)}
        for key in ITEM_COLUMNS:
            value = _column(kwargs, key, i)
            if value is not None:
                item[key] = value
        items.append(item)
        slots.append(i)
    rewards: list[float | None] = [None] * len(completions)
    if not items:
        return rewards
    settings = _settings()
    payload: dict[str, Any] = {"items": items, "specialTokens": "stripped"}
    if settings["style"]:
        payload["style"] = settings["style"]
    by_id = {r["id"]: r for r in _post(settings, "/v1/score", payload)["results"]}
    for slot in slots:
        rewards[slot] = float(by_id[slot]["reward"])
    log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
    if callable(log_metric):
        log_metric("glmv/timeouts", float(sum(1 for r in by_id.values() if r["timedOut"])))
        log_metric("glmv/format_ok", sum(1.0 for r in by_id.values() if r["format"] == "ok") / len(by_id))
    if callable(log_extra):  # the completions table gets why each row scored what it did
        log_extra("glmv_format", [by_id[i]["format"] if i in by_id else None for i in range(len(completions))])
    return rewards


async def glmv_reward_async(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
    """TRL gathers coroutine reward functions concurrently: the blocking request runs in a thread."""
    return await asyncio.to_thread(glmv_reward, prompts, completions, completion_ids, **kwargs)


if __name__ == "__main__":
    # Smoke test against a running `glmv serve reward`.
    print(glmv_reward(["q", "q", "q"], ["I count three.\n3", "Four?\n4", "n/a"], answer=["3", "3", "x"],
                      domain=["counting", "counting", "other"]))
