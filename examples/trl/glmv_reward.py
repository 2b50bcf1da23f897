"""glmv's reward server as a TRL GRPOTrainer reward function.

    from glmv_reward import glmv_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[glmv_reward], train_dataset=dataset, ...)

TRL passes every dataset column except `prompt` as a keyword argument. This function reads `answer` (or
`ground_truth`) and `domain`, and optionally `question`, `options`, `style`. Rows whose `domain` is not a glmv domain
get `None` ("not applicable"), so glmv can share a run with other reward functions.

TRL decodes completions with special tokens skipped, so the server is asked for `specialTokens: "stripped"`
(see ../verl/README.md for what glmv does with stripped text). Standard library only.
Environment: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN, GLMV_REWARD_TIMEOUT_S (60).
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

URL = os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN")
TIMEOUT_S = float(os.environ.get("GLMV_REWARD_TIMEOUT_S", "60"))
GLMV_DOMAINS = {"math", "physics", "chemistry", "chart", "ocr", "counting", "choice", "text", "grounding", "gui"}


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
        for key in ("question", "options", "style"):
            value = _column(kwargs, key, i)
            if value is not None:
                item[key] = value
        items.append(item)
        slots.append(i)
    rewards: list[float | None] = [None] * len(completions)
    if not items:
        return rewards
    headers = {"content-type": "application/json"}
    if TOKEN:
        headers["authorization"] = f"Bearer {TOKEN}"
    body = json.dumps({"items": items, "specialTokens": "stripped"}).encode()
    req = urllib.request.Request(f"{URL}/v1/score", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as res:
        results = json.loads(res.read())["results"]
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
