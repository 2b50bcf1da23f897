"""glmv's reward server as a verl reward function.

Point verl's custom reward function at this file (see README.md). Each call POSTs the decoded response to
`glmv serve reward` (`POST /v1/score`) and returns a dict: `score` is the reward, the other keys become
`reward_extra_info` columns (usable as a DAPO `filter_groups.metric`, e.g. `acc`).

verl decodes responses with `skip_special_tokens=True`, so this shim asks the server for `specialTokens: "stripped"`:
when `<think>`/`<answer>`/box tokens did not survive decoding, the server takes the response's last line as the
answer (see the README). Standard library only.

Errors: a 4xx (wrong token, a bad item) raises `GlmvRequestError` with the server's message: it is a setup or data
bug and retrying cannot fix it. Connection errors, timeouts and 5xx are retried with backoff; if the server still
cannot answer, every item of the call scores 0 with `server_error` 1 (training goes on; watch that column).

Environment: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN (bearer token, optional),
GLMV_REWARD_TIMEOUT_S (default 60), GLMV_STYLE (4.1v | 4.5v, default 4.1v), GLMV_REWARD_RETRIES (tries, default 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN")
TIMEOUT_S = float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60"))
STYLE = os.environ.get("GLMV_STYLE", "4.1v")
RETRIES = max(1, int(os.environ.get("GLMV_REWARD_RETRIES", "3")))
BACKOFF_S = 0.5

# verl's data_source → glmv domain. Extend for your datasets, or put "domain" in extra_info or ground_truth.
DATA_SOURCE_DOMAINS = {
    "hiyouga/geometry3k": "math",
    "openai/gsm8k": "math",
    "lighteval/MATH": "math",
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

# Every result has the same keys, so verl can build one column per key.
_FAILED = {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "timed_out": 0.0, "server_error": 1.0}


class GlmvRequestError(RuntimeError):
    """The server refused the request (HTTP 4xx): a wrong token or a bad item. Retrying cannot help."""

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


def _domain(data_source: str, ground_truth: Any, extra_info: dict | None) -> str:
    if isinstance(ground_truth, dict) and ground_truth.get("domain") in GLMV_DOMAINS:
        return ground_truth["domain"]
    if extra_info and extra_info.get("domain") in GLMV_DOMAINS:
        return extra_info["domain"]
    if data_source in GLMV_DOMAINS:
        return data_source
    return DATA_SOURCE_DOMAINS.get(data_source, "math")


def _answer_format(data_source: str, ground_truth: Any, extra_info: dict | None) -> str | None:
    if isinstance(ground_truth, dict) and "answerFormat" in ground_truth:
        return ground_truth["answerFormat"]
    if extra_info and "answerFormat" in extra_info:
        return extra_info["answerFormat"]
    return DATA_SOURCE_FORMATS.get(data_source)


def _item(i: int, data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None) -> dict:
    """One `glmv reward score` item. ground_truth is the answer, or a dict with answer/question/options."""
    item: dict[str, Any] = {"id": i, "domain": _domain(data_source, ground_truth, extra_info), "response": solution_str}
    if isinstance(ground_truth, dict):
        item["answer"] = str(ground_truth.get("answer", ""))
        for key in ("question", "options", "verifiable", "style"):
            if key in ground_truth:
                item[key] = ground_truth[key]
    else:
        item["answer"] = str(ground_truth)
    answer_format = _answer_format(data_source, ground_truth, extra_info)
    if answer_format is not None:
        item["answerFormat"] = answer_format
    return item


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


def _to_verl(result: dict) -> dict:
    return {
        "score": float(result["reward"]),
        "acc": 1.0 if result["correct"] else 0.0,
        "format_ok": 1.0 if result["format"] == "ok" else 0.0,
        "timed_out": 1.0 if result["timedOut"] else 0.0,
        "server_error": 0.0,
    }


def compute_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs) -> list[dict]:
    """verl `batch` reward manager signature: one request for the whole batch."""
    extra_infos = extra_infos or [None] * len(solution_strs)
    items = [
        _item(i, ds, s, gt, ei)
        for i, (ds, s, gt, ei) in enumerate(zip(data_sources, solution_strs, ground_truths, extra_infos))
    ]
    try:
        reply = _post("/v1/score", {"items": items, "specialTokens": "stripped", "style": STYLE})
    except GlmvServerUnavailable:
        return [dict(_FAILED) for _ in items]
    return [_to_verl(r) for r in reply["results"]]


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    """verl `naive` / `dapo` manager and reward-loop signature: one response."""
    return compute_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


async def compute_score_async(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    """The reward loop awaits coroutines: run the blocking request in a thread."""
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth, extra_info)


if __name__ == "__main__":
    # Smoke test against a running `glmv serve reward`.
    print(compute_score("counting", "<think>one, two, three</think><answer>3</answer>", "3"))
    print(compute_score("counting", "I count one, two, three.\n3", {"answer": "3", "domain": "counting"}))
    print(compute_score("openai/gsm8k", "48/2 = 24 clips in May, 48+24 = 72 in all.\n#### 72", "72"))
