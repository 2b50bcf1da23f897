"""slime `--custom-rm-path glmv_slime.reward.custom_rm`: rewards from `glmv serve reward` (`POST /v1/score`).

slime calls `await custom_rm(args, sample)` per sample, or, with `--group-rm`, `await custom_rm(args, samples)`
once per group: then the whole group goes in one request, so the server's anti-hacking checks see the group.
The domain and answer come from `sample.label`, a JSON string (or dict) like OpenRLHF's:
`{"domain": "counting", "answer": "3"}`; a plain string is the answer, in domain GLMV_DOMAIN (default math).

Returns the reward as a float (`--reward-key` is not needed). Each sample's `metadata["glmv"]` gets
`{correct, format, timed_out, server_error}` for logging.

Timeouts and outages are results, never crashes: an item the server could not score in time is reward 0 with
`timed_out` 1 (the server's deadline); a request that gets no answer after GLMV_REWARD_RETRIES tries of
GLMV_REWARD_TIMEOUT_S each scores every sample GLMV_REWARD_ON_ERROR (default 0.0) with `server_error` 1 (and
`timed_out` 1 when the last try timed out). A 4xx (wrong token, bad label) raises `GlmvRequestError`: a setup bug.

Environment: GLMV_REWARD_URL (default http://127.0.0.1:8000), GLMV_SERVE_TOKEN, GLMV_REWARD_TIMEOUT_S (60),
GLMV_REWARD_RETRIES (3), GLMV_REWARD_ON_ERROR (0.0), GLMV_STYLE (4.1v | 4.5v), GLMV_SPECIAL_TOKENS (kept | stripped;
default kept, slime's `--rollout-skip-special-tokens` off), GLMV_DOMAIN (math).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from ._http import GlmvServerUnavailable, env_float, request_json

_LABEL_FIELDS = ("domain", "answer", "question", "options", "verifiable", "style", "answerFormat")


def item_of(index: int, sample: Any) -> dict:
    """One /v1/score item from a slime Sample: its response, and the label's domain/answer/options."""
    label = sample.label
    if isinstance(label, str):
        try:
            parsed = json.loads(label)
        except ValueError:
            parsed = None
        label = parsed if isinstance(parsed, dict) else {"answer": label}
    label = dict(label or {})
    item: dict[str, Any] = {"id": index, "response": sample.response or ""}
    item.update({k: label[k] for k in _LABEL_FIELDS if k in label})
    item.setdefault("domain", os.environ.get("GLMV_DOMAIN", "math"))
    item["answer"] = str(item.get("answer", ""))
    return item


def score_samples(samples: list) -> list[float]:
    """Score samples in one request (blocking); records metadata["glmv"] on each."""
    url = os.environ.get("GLMV_REWARD_URL", "http://127.0.0.1:8000").rstrip("/")
    payload = {
        "items": [item_of(i, s) for i, s in enumerate(samples)],
        "specialTokens": os.environ.get("GLMV_SPECIAL_TOKENS", "kept"),
        "style": os.environ.get("GLMV_STYLE", "4.1v"),
    }
    try:
        reply = request_json(
            url + "/v1/score",
            payload,
            token=os.environ.get("GLMV_SERVE_TOKEN"),
            timeout_s=env_float("GLMV_REWARD_TIMEOUT_S", 60),
            tries=int(os.environ.get("GLMV_REWARD_RETRIES", "3")),
        )
    except GlmvServerUnavailable as e:
        fallback = env_float("GLMV_REWARD_ON_ERROR", 0.0)
        for s in samples:
            _meta(s)["glmv"] = {"correct": 0, "format": None, "timed_out": int(e.timed_out), "server_error": 1}
        return [fallback] * len(samples)
    rewards = []
    for s, r in zip(samples, reply["results"]):
        _meta(s)["glmv"] = {
            "correct": int(bool(r["correct"])),
            "format": r["format"],
            "timed_out": int(bool(r["timedOut"])),
            "server_error": 0,
        }
        rewards.append(float(r["reward"]))
    return rewards


def _meta(sample: Any) -> dict:
    if getattr(sample, "metadata", None) is None:
        sample.metadata = {}
    return sample.metadata


async def custom_rm(args, sample_or_samples, **kwargs):
    """slime's custom reward hook: a float for one Sample, a list of floats for a group (`--group-rm`)."""
    if isinstance(sample_or_samples, list):
        return await asyncio.to_thread(score_samples, sample_or_samples)
    return (await asyncio.to_thread(score_samples, [sample_or_samples]))[0]
