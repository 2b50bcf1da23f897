"""slime `--custom-generate-function-path glmv_slime.generate.force_answer_generate`: force-answer on SGLang.

GLM-V thinks inside `<think>…</think>` and answers in `<answer>…</answer>`. A response that spends the whole
thinking budget (GLMV_THINKING_BUDGET tokens, default 8192) without closing `</think>` would score 0 for format
alone, so the generation stops there, `</think><answer>` is injected, and SGLang continues from it for the rest of
`max_new_tokens`. The injected tokens are not the policy's choice: their `loss_mask` is 0 (log-prob 0.0), so they
are never trained on. `metadata["glmv_forced_answer"]` marks such samples.

The injected ids come from GLMV_FORCE_ANSWER_IDS (comma-separated, e.g. the ids of `</think>` and `<answer>` in your
tokenizer), or else from the tokenizer of `--hf-checkpoint` (transformers) encoding GLMV_FORCE_ANSWER_TEXT
(default `</think><answer>`; GLM-4.5V/4.6V, which have no `<answer>`, want `</think>`).

Requests go to `http://{--sglang-router-ip}:{--sglang-router-port}/generate` with `input_ids` and
`return_logprob: true`; the response ids and log-probs are read from `meta_info.output_token_logprobs`.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ._http import env_float, request_json

THINK_END = "</think>"
_tokenizers: dict[str, Any] = {}


def _tokenizer(args):
    path = args.hf_checkpoint
    if path not in _tokenizers:
        from transformers import AutoTokenizer  # only when no ids are configured: slime ships transformers

        _tokenizers[path] = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
    return _tokenizers[path]


def _forced_ids(args) -> tuple[list[int], str]:
    text = os.environ.get("GLMV_FORCE_ANSWER_TEXT", "</think><answer>")
    ids = os.environ.get("GLMV_FORCE_ANSWER_IDS")
    if ids:
        return [int(t) for t in ids.split(",")], text
    return _tokenizer(args).encode(text, add_special_tokens=False), text


def _post_generate(args, input_ids: list[int], sampling_params: dict, max_new_tokens: int, images) -> dict:
    url = f"http://{args.sglang_router_ip}:{args.sglang_router_port}/generate"
    payload: dict[str, Any] = {
        "input_ids": input_ids,
        "sampling_params": {**sampling_params, "max_new_tokens": max_new_tokens},
        "return_logprob": True,
    }
    if images:
        payload["image_data"] = images
    return request_json(url, payload, timeout_s=env_float("GLMV_GENERATE_TIMEOUT_S", 3600), tries=1)


def _append(sample, ids: list[int], log_probs: list[float], text: str, trainable: bool) -> None:
    sample.tokens = list(sample.tokens) + ids
    sample.response = (sample.response or "") + text
    sample.response_length += len(ids)
    sample.loss_mask = list(sample.loss_mask or []) + [1 if trainable else 0] * len(ids)
    sample.rollout_log_probs = list(sample.rollout_log_probs or []) + log_probs


def _take(sample, output: dict) -> str:
    """Append SGLang's answer to the sample; return its finish reason ("stop", "length", "abort")."""
    meta = output["meta_info"]
    pairs = meta.get("output_token_logprobs") or []
    _append(sample, [p[1] for p in pairs], [p[0] for p in pairs], output["text"], trainable=True)
    if "weight_version" in meta and isinstance(getattr(sample, "weight_versions", None), list):
        sample.weight_versions.append(meta["weight_version"])
    return meta["finish_reason"]["type"]


async def force_answer_generate(args, sample, sampling_params: dict, evaluation: bool = False):
    total = sampling_params["max_new_tokens"] - sample.response_length
    status = type(sample).Status
    if total <= 0:
        sample.status = status.TRUNCATED
        return sample
    if not sample.tokens:
        sample.tokens = _tokenizer(args).encode(sample.prompt, add_special_tokens=False)
    if sample.loss_mask is None and sample.response_length > 0:
        sample.loss_mask = [1] * sample.response_length
    images = (sample.multimodal_inputs or {}).get("images")
    budget = min(int(os.environ.get("GLMV_THINKING_BUDGET", "8192")), total)
    used_before = sample.response_length

    output = await asyncio.to_thread(_post_generate, args, sample.tokens, sampling_params, budget, images)
    finish = _take(sample, output)
    if finish == "length" and total > budget:
        if THINK_END not in sample.response:
            ids, text = _forced_ids(args)
            _append(sample, ids, [0.0] * len(ids), text, trainable=False)
            sample.metadata = {**(sample.metadata or {}), "glmv_forced_answer": True}
        remaining = total - (sample.response_length - used_before)
        if remaining > 0:
            output = await asyncio.to_thread(_post_generate, args, sample.tokens, sampling_params, remaining, images)
            finish = _take(sample, output)
    sample.status = {"length": status.TRUNCATED, "abort": status.ABORTED}.get(finish, status.COMPLETED)
    return sample
