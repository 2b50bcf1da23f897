"""glmv's reward server as a verl reward function.

Read from verl-project/verl (verl/trainer/ppo/reward.py @ 302f740f, verl/experimental/reward_loop/reward_manager/
{naive,batch}.py @ 247f1ac2 / a9ba0658, verl/utils/reward_score/__init__.py @ 0515376a) and the older
volcengine/verl managers (verl/workers/reward_manager/{naive,batch,dapo,prime}.py):

- `reward.custom_reward_function.{path,name}` (older verl: top-level `custom_reward_function`) loads a function
  from this file; `custom_reward_function.reward_kwargs` are merged into every call's keyword arguments.
- `naive` / `dapo` / `prime` / `rate_limited` managers call
  `compute_score(data_source=, solution_str=, ground_truth=, extra_info=)` once per response (the reward loop awaits
  it when it is a coroutine: use `compute_score_async`), and take a float or a dict with `score` (the other keys
  become `reward_extra_info` columns, e.g. DAPO's `algorithm.filter_groups.metric=acc`).
- the `batch` manager calls `compute_batch(data_sources=, solution_strs=, ground_truths=, extra_infos=)` once per
  batch and takes a list of them (`compute_batch_async` in the reward loop). `data_sources` and `extra_infos` are
  numpy object arrays there, so nothing here tests their truth value.

Each call POSTs the decoded responses to `glmv serve reward` (`POST /v1/score`) and returns, per response,
`{"score", "acc", "format_ok", "timed_out", "server_error"}`. verl decodes with `skip_special_tokens=True`, so the
server is asked for `specialTokens: "stripped"` (see README.md).

Errors: a 4xx (wrong token, a bad item) raises `GlmvRequestError` with the server's message: a setup or data bug
that retrying cannot fix. Connection errors, client timeouts and 5xx are retried with backoff; if the server still
cannot answer, every response of the call scores 0 with `server_error` 1 (and `timed_out` 1 when the last try timed
out): training goes on, watch those columns. An item the server stopped at its own deadline is score 0, `timed_out` 1.

Settings, read per call (Ray workers may not inherit your shell: set them in `reward_kwargs` or the Ray runtime
env): GLMV_REWARD_URL / reward_kwargs `glmv_url` (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN (bearer token),
GLMV_STYLE / `glmv_style` (4.1v | 4.5v, default 4.1v), GLMV_REWARD_TIMEOUT_S (60), GLMV_REWARD_RETRIES (tries, 3).
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

# verl's data_source → glmv domain. Extend for your datasets, or put "domain" in extra_info or ground_truth.
DATA_SOURCE_DOMAINS = {
    "hiyouga/geometry3k": "math",
    "openai/gsm8k": "math",
    "lighteval/MATH": "math",
    "DigitalLearningGmbH/MATH-lighteval": "math",
    "HuggingFaceH4/MATH-500": "math",
    "AI4Math/MathVista": "math",
    "echo840/OCRBench": "ocr",
}
GLMV_DOMAINS = {"math", "physics", "chemistry", "chart", "ocr", "counting", "choice", "text", "grounding", "gui"}

# verl's data_source → where the answer sits in the response, for datasets whose recipes do not use GLM-V's
# think-then-box format. "gsm8k": the text after the last "####"; "boxed": optional <think>…</think>, then the last
# \boxed{…} (two different boxed answers score 0). A data source not listed here is scored by the GLM-V format gate.
# Extend for your datasets, or put "answerFormat" in extra_info or ground_truth.
DATA_SOURCE_FORMATS = {
    "openai/gsm8k": "gsm8k",
    "hiyouga/geometry3k": "boxed",
}
ANSWER_FORMATS = {"glmv", "gsm8k", "boxed"}
for _source, _fmt in DATA_SOURCE_FORMATS.items():
    if _fmt not in ANSWER_FORMATS:
        raise ValueError(f"DATA_SOURCE_FORMATS[{_source!r}] = {_fmt!r}: must be one of {sorted(ANSWER_FORMATS)}")

_ITEM_KEYS = ("question", "options", "verifiable", "style")


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx): a wrong token or a bad item. Retrying cannot help."""

    def __init__(self, status: int, code: str, message: str, field: str | None):
        where = f" (field {field})" if field and field not in message else ""
        super().__init__(f"glmv reward server refused the request: HTTP {status} {code}: {message}{where}")
        self.status, self.code, self.message, self.field = status, code, message, field


class GlmvServerUnavailable(RuntimeError):
    """No answer after GLMV_REWARD_RETRIES tries (connection refused, timeout, HTTP 5xx)."""

    def __init__(self, message: str, timed_out: bool):
        super().__init__(message)
        self.timed_out = timed_out


def _settings(kwargs: dict) -> dict[str, Any]:
    """Per call: `reward_kwargs` (glmv_url, glmv_style) win over the environment."""
    return {
        "url": str(kwargs.get("glmv_url") or os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000")).rstrip("/"),
        "token": os.environ.get("GLMV_SERVE_TOKEN"),
        "style": kwargs.get("glmv_style") or os.environ.get("GLMV_STYLE", "4.1v"),
        "timeout_s": float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60")),
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


def _label(ground_truth: Any) -> Any:
    """A JSON label string (`{"domain", "answer", …}`, as OpenRLHF/EasyR1/slime use) becomes a dict."""
    if isinstance(ground_truth, str) and ground_truth.lstrip().startswith("{"):
        try:
            parsed = json.loads(ground_truth)
        except ValueError:
            return ground_truth  # a literal answer that starts with "{"
        if isinstance(parsed, dict) and "answer" in parsed:
            return parsed
    return ground_truth


def _domain(data_source: str, label: Any, extra_info: Any) -> str:
    if isinstance(label, dict) and label.get("domain") in GLMV_DOMAINS:
        return label["domain"]
    if isinstance(extra_info, dict) and extra_info.get("domain") in GLMV_DOMAINS:
        return extra_info["domain"]
    if data_source in GLMV_DOMAINS:
        return data_source
    return DATA_SOURCE_DOMAINS.get(data_source, "math")


def _answer_format(data_source: str, label: Any, extra_info: Any) -> str | None:
    if isinstance(label, dict) and "answerFormat" in label:
        return label["answerFormat"]
    if isinstance(extra_info, dict) and "answerFormat" in extra_info:
        return extra_info["answerFormat"]
    return DATA_SOURCE_FORMATS.get(data_source)


def _item(i: int, data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any) -> dict:
    """One `/v1/score` item. ground_truth: the answer, or a dict / JSON label with answer, domain, question, …"""
    data_source = str(data_source)
    label = _label(ground_truth)
    item: dict[str, Any] = {"id": i, "domain": _domain(data_source, label, extra_info), "response": str(solution_str)}
    if isinstance(label, dict):
        item["answer"] = str(label.get("answer", ""))
        item.update({key: label[key] for key in _ITEM_KEYS if key in label})
    else:
        item["answer"] = str(label)
    answer_format = _answer_format(data_source, label, extra_info)
    if answer_format is not None:
        item["answerFormat"] = answer_format
    return item


def _to_verl(result: dict) -> dict:
    return {
        "score": float(result["reward"]),
        "acc": 1.0 if result["correct"] else 0.0,
        "format_ok": 1.0 if result["format"] == "ok" else 0.0,
        "timed_out": 1.0 if result["timedOut"] else 0.0,
        "server_error": 0.0,
    }


def _failed(timed_out: bool) -> dict:
    """Every result has the same keys, so verl can build one column per key."""
    return {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "timed_out": 1.0 if timed_out else 0.0, "server_error": 1.0}


def compute_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs) -> list[dict]:
    """verl `batch` manager: one request for the whole batch, one result per response, in order."""
    n = len(solution_strs)
    if n == 0:
        return []
    infos = [None] * n if extra_infos is None else list(extra_infos)  # a numpy array has no truth value
    items = [
        _item(i, ds, s, gt, ei) for i, (ds, s, gt, ei) in enumerate(zip(data_sources, solution_strs, ground_truths, infos))
    ]
    settings = _settings(kwargs)
    try:
        reply = _post(settings, "/v1/score", {"items": items, "specialTokens": "stripped", "style": settings["style"]})
    except GlmvServerUnavailable as e:
        return [_failed(e.timed_out) for _ in items]
    by_id = {r["id"]: r for r in reply["results"]}
    return [_to_verl(by_id[i]) for i in range(n)]


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    """verl `naive` / `dapo` / `prime` / `rate_limited` managers: one response."""
    return compute_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]


async def compute_score_async(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    """The reward loop awaits coroutines: the blocking request runs in a thread."""
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth, extra_info, **kwargs)


async def compute_batch_async(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs) -> list[dict]:
    """The reward loop's `batch` manager awaits coroutines too."""
    return await asyncio.to_thread(compute_batch, data_sources, solution_strs, ground_truths, extra_infos, **kwargs)


if __name__ == "__main__":
    # Smoke test against a running `glmv serve reward`.
    print(compute_score("counting", "<think>one, two, three</think><answer>3</answer>", "3"))
    print(compute_score("counting", "I count one, two, three.\n3", {"answer": "3", "domain": "counting"}))
    print(compute_score("openai/gsm8k", "48/2 = 24 clips in May, 48+24 = 72 in all.\n#### 72", "72"))
