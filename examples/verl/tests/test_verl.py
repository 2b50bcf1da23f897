"""examples/verl/compute_score.py called the way verl's reward managers call it, against a real `glmv serve reward`.

Run by test/examples-verl.test.ts, which starts the server (`--special-tokens stripped`, as verl decodes) and passes
GLMV_REWARD_URL and GLMV_SERVE_TOKEN. Standard library only: verl needs GPUs, so the pieces the reward function
meets are reproduced minimally below (read from verl-project/verl: verl/trainer/ppo/reward.py @ 302f740f, the reward
loop's naive.py @ 247f1ac2 and batch.py @ a9ba0658, the legacy verl/workers/reward_manager/batch.py @ 45c6d15a).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import sys
import unittest
from collections import defaultdict
from functools import partial
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "_testing"))

from glmv_testing import StubServer, patch_env, reward_client_env, reward_result  # noqa: E402

MODULE_PATH = HERE.parent / "compute_score.py"
FIXTURES = HERE.parents[2] / "test" / "fixtures" / "answer-formats"
URL = os.environ.get("GLMV_REWARD_URL", "")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN", "")

# ---- minimal verl --------------------------------------------------------------------------------------------------


class ObjectArray(list):
    """A numpy object array as DataProto.non_tensor_batch holds them: truth value ambiguous beyond one element."""

    def __bool__(self):
        if len(self) != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous.")
        return bool(self[0])


class Tokenizer:
    """Token strings as ids; `skip_special_tokens=True` drops the GLM special tokens, as verl's decode does."""

    SPECIAL = {"<pad>", "<|endoftext|>", "<think>", "</think>", "<answer>", "</answer>", "<|begin_of_box|>",
               "<|end_of_box|>"}

    def __init__(self):
        self.vocab: list[str] = ["<pad>"]

    def ids(self, pieces: list[str]) -> list[int]:
        out = []
        for piece in pieces:
            if piece not in self.vocab:
                self.vocab.append(piece)
            out.append(self.vocab.index(piece))
        return out

    def decode(self, ids, skip_special_tokens=False) -> str:
        pieces = [self.vocab[i] for i in ids]
        return "".join(p for p in pieces if not (skip_special_tokens and p in self.SPECIAL))

    def batch_decode(self, rows, skip_special_tokens=False) -> list[str]:
        return [self.decode(r, skip_special_tokens) for r in rows]


class DataProto:
    """`batch` (prompts, responses, attention_mask: rows of ids) and `non_tensor_batch` (ObjectArray per key)."""

    def __init__(self, batch: dict, non_tensor_batch: dict):
        self.batch, self.non_tensor_batch = batch, non_tensor_batch

    def __len__(self):
        return len(self.batch["responses"])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return DataProto({k: v[index] for k, v in self.batch.items()},
                             {k: ObjectArray(v[index]) for k, v in self.non_tensor_batch.items()})
        return DataProto({k: v[index] for k, v in self.batch.items()},
                         {k: v[index] for k, v in self.non_tensor_batch.items()})


def rollout(tokenizer: Tokenizer, rows: list[dict], prompt_len: int = 4, response_len: int = 24) -> DataProto:
    """Rows of {data_source, response (token strings), ground_truth, extra_info?}: left-padded prompt, right-padded
    response, attention mask over both, and the dataset's columns in non_tensor_batch."""
    batch = {"prompts": [], "responses": [], "attention_mask": []}
    for row in rows:
        prompt = tokenizer.ids(["<|user|>", "How many?", "<|assistant|>"])
        response = tokenizer.ids(row["response"] + ["<|endoftext|>"])
        batch["prompts"].append([0] * (prompt_len - len(prompt)) + prompt)
        batch["responses"].append(response + [0] * (response_len - len(response)))
        batch["attention_mask"].append([0] * (prompt_len - len(prompt)) + [1] * len(prompt)
                                       + [1] * len(response) + [0] * (response_len - len(response)))
    non_tensor = {
        "data_source": ObjectArray(r["data_source"] for r in rows),
        "reward_model": ObjectArray({"style": "rule", "ground_truth": r["ground_truth"]} for r in rows),
        "extra_info": ObjectArray(dict(r.get("extra_info", {})) for r in rows),
    }
    return DataProto(batch, non_tensor)


def get_custom_reward_fn(path: Path, name: str, reward_kwargs: dict):
    """verl/trainer/ppo/reward.py: load `name` from `path`, merge reward_kwargs into each call, keep it awaitable."""
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw_fn = getattr(module, name)

    def call(raw, extra, *args, **kwargs):
        return raw(*args, **{**kwargs, **extra})

    async def call_async(raw, extra, *args, **kwargs):
        return await raw(*args, **{**kwargs, **extra})

    wrapper = call_async if inspect.iscoroutinefunction(raw_fn) else call
    return module, partial(wrapper, raw_fn, reward_kwargs)


async def reward_loop_naive(compute_score, tokenizer: Tokenizer, data: DataProto) -> dict:
    """The reward loop's NaiveRewardManager.run_single: the last row, keyword arguments, awaited or in a thread."""
    item = data[-1:][0]
    response_ids = item.batch["responses"]
    valid = sum(item.batch["attention_mask"][-len(response_ids):])
    extra_info = item.non_tensor_batch.get("extra_info", {})
    extra_info["num_turns"], extra_info["rollout_reward_scores"] = None, {}
    kwargs = {
        "data_source": item.non_tensor_batch["data_source"],
        "solution_str": tokenizer.decode(response_ids[:valid], skip_special_tokens=True),
        "ground_truth": item.non_tensor_batch["reward_model"]["ground_truth"],
        "extra_info": extra_info,
    }
    if inspect.iscoroutinefunction(compute_score):
        result = await compute_score(**kwargs)
    else:
        result = await asyncio.get_running_loop().run_in_executor(None, lambda: compute_score(**kwargs))
    if isinstance(result, dict):
        return {"reward_score": result["score"], "reward_extra_info": dict(result)}
    return {"reward_score": result, "reward_extra_info": {"acc": result}}


async def reward_loop_batch(compute_score, tokenizer: Tokenizer, data: DataProto) -> list[dict]:
    """The reward loop's BatchRewardManager.run_batch: one call with plural keyword arguments."""
    ids, sources, truths, infos = [], [], [], []
    for i in range(len(data)):
        item = data[i]
        response_ids = item.batch["responses"]
        ids.append(response_ids[: sum(item.batch["attention_mask"][-len(response_ids):])])
        sources.append(item.non_tensor_batch["data_source"])
        truths.append(item.non_tensor_batch["reward_model"]["ground_truth"])
        infos.append({**(item.non_tensor_batch.get("extra_info") or {}), "num_turns": None, "rollout_reward_scores": {}})
    kwargs = {"data_sources": sources, "solution_strs": tokenizer.batch_decode(ids, skip_special_tokens=True),
              "ground_truths": truths, "extra_infos": infos}
    if inspect.iscoroutinefunction(compute_score):
        result = await compute_score(**kwargs)
    else:
        result = await asyncio.get_running_loop().run_in_executor(None, lambda: compute_score(**kwargs))
    return [{"reward_score": r["score"], "reward_extra_info": dict(r)} if isinstance(r, dict)
            else {"reward_score": r, "reward_extra_info": {"acc": r}} for r in result]


def legacy_batch_manager(compute_score, tokenizer: Tokenizer, data: DataProto, reward_fn_key="data_source"):
    """verl/workers/reward_manager/batch.py: numpy arrays passed straight through, the reward on the last valid
    token, one reward_extra_info column per result key."""
    prompt_len = len(data.batch["prompts"][0])
    lengths = [sum(mask[prompt_len:]) for mask in data.batch["attention_mask"]]
    responses = tokenizer.batch_decode([r[:n] for r, n in zip(data.batch["responses"], lengths)],
                                       skip_special_tokens=True)
    extras = data.non_tensor_batch.get("extra_info")
    for extra in extras:
        extra["rollout_reward_scores"] = {}
    scores = compute_score(
        data_sources=data.non_tensor_batch[reward_fn_key],
        solution_strs=responses,
        ground_truths=[data[i].non_tensor_batch["reward_model"].get("ground_truth") for i in range(len(data))],
        extra_infos=extras,
    )
    reward_tensor = [[0.0] * len(r) for r in data.batch["responses"]]
    extra_info = defaultdict(list)
    for i, score in enumerate(scores):
        reward_tensor[i][lengths[i] - 1] = score["score"]
        for key, value in score.items():
            extra_info[key].append(value)
    return reward_tensor, dict(extra_info)


# ---- helpers -------------------------------------------------------------------------------------------------------


def jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def glm41v(answer: str, reasoning: str = "one, two, three\n") -> list[str]:
    """A GLM-4.1V response as tokens: think, then the boxed answer inside <answer> (all special tokens, so verl's
    decode leaves the reasoning lines and the answer on the last line)."""
    return ["<think>", reasoning, "</think>", "<answer>", "<|begin_of_box|>", answer, "<|end_of_box|>", "</answer>"]


# ---- tests ---------------------------------------------------------------------------------------------------------


@unittest.skipUnless(URL, "GLMV_REWARD_URL is not set (run through test/examples-verl.test.ts)")
class AgainstGlmvServer(unittest.TestCase):
    def setUp(self):
        patch_env(self, {"GLMV_REWARD_URL": URL, "GLMV_SERVE_TOKEN": TOKEN, "GLMV_REWARD_TIMEOUT_S": "30"})
        self.tokenizer = Tokenizer()

    def load(self, name: str, **reward_kwargs):
        return get_custom_reward_fn(MODULE_PATH, name, reward_kwargs)

    def test_right_answers_score_1_and_wrong_0_in_glmv_gsm8k_and_geometry3k_formats(self):
        module, fn = self.load("compute_score")
        natalia = jsonl("gsm8k-reference.jsonl")[0]
        geo = next(s for s in jsonl("geometry3k-bard.jsonl") if s["pid"] == "236")  # boxes 12, gold 12
        hedged = natalia["response"].replace("#### 72", "#### 71") + "\n#### 72"
        cases = [
            ("counting", "I count one, two, three.\n3", "3", 1.0),
            ("counting", "I count one, two, three.\n4", "3", 0.0),
            ("openai/gsm8k", natalia["response"], natalia["answer"], 1.0),
            ("openai/gsm8k", hedged, natalia["answer"], 0.0),
            ("hiyouga/geometry3k", geo["response"], geo["answer"], 1.0),
            ("hiyouga/geometry3k", "<think>x^2 = 144</think> So \\boxed{12}.", "12", 1.0),
            ("hiyouga/geometry3k", "<think>x^2 = 144</think> \\boxed{12} or \\boxed{-12}", "12", 0.0),
            ("my/dataset", "<think>48+24</think>\n#### 72", "72", 0.0),  # no mapping: the GLM-V gate
        ]
        scores = [fn(data_source=ds, solution_str=s, ground_truth=gt, extra_info={})["score"] for ds, s, gt, _ in cases]
        self.assertEqual(scores, [c[3] for c in cases])
        self.assertEqual(fn(data_source="openai/gsm8k", solution_str=hedged, ground_truth="72", extra_info=None),
                         {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "timed_out": 0.0, "server_error": 0.0})

    def test_reward_loop_naive_manager_scores_decoded_rollouts(self):
        _, fn = self.load("compute_score")
        right = rollout(self.tokenizer, [{"data_source": "counting", "response": glm41v("3"), "ground_truth": "3"}])
        wrong = rollout(self.tokenizer, [{"data_source": "counting", "response": glm41v("4"), "ground_truth": "3"}])
        self.assertEqual(asyncio.run(reward_loop_naive(fn, self.tokenizer, right))["reward_score"], 1.0)
        out = asyncio.run(reward_loop_naive(fn, self.tokenizer, wrong))
        self.assertEqual(out["reward_score"], 0.0)
        self.assertEqual(set(out["reward_extra_info"]), {"score", "acc", "format_ok", "timed_out", "server_error"})

    def test_reward_loop_awaits_compute_score_async_and_reward_kwargs_set_the_style(self):
        _, fn = self.load("compute_score_async", glmv_style="4.5v")
        self.assertTrue(inspect.iscoroutinefunction(fn))  # so the reward loop awaits it instead of using a thread
        glm45v = ["<think>one, two, three</think>", "3"]  # think tags that are not special tokens survive decoding
        data = rollout(self.tokenizer, [{"data_source": "counting", "response": glm45v, "ground_truth": "3"}])
        self.assertEqual(asyncio.run(reward_loop_naive(fn, self.tokenizer, data))["reward_score"], 1.0)
        _, as_41v = self.load("compute_score_async")
        self.assertEqual(asyncio.run(reward_loop_naive(as_41v, self.tokenizer, data))["reward_score"], 0.0)

    def test_legacy_batch_manager_passes_numpy_arrays_and_gets_one_column_per_key(self):
        _, fn = self.load("compute_batch")
        rows = [
            {"data_source": "counting", "response": glm41v("3"), "ground_truth": "3"},
            {"data_source": "counting", "response": glm41v("4"), "ground_truth": "3"},
            {"data_source": "images/v1", "response": ["I read ", "\\boxed{B}"],
             "ground_truth": {"answer": "B", "options": ["1", "2", "3"]}, "extra_info": {"domain": "choice"}},
            {"data_source": "openai/gsm8k", "response": ["48+24=72\n", "#### 72"], "ground_truth": "72"},
        ]
        data = rollout(self.tokenizer, rows)
        rewards, columns = legacy_batch_manager(fn, self.tokenizer, data)
        self.assertEqual([max(r) for r in rewards], [1.0, 0.0, 1.0, 1.0])
        prompt_len = len(data.batch["prompts"][0])
        last_valid = sum(data.batch["attention_mask"][0][prompt_len:]) - 1
        self.assertEqual(rewards[0][last_valid], 1.0)  # on the last valid response token
        self.assertEqual(columns["acc"], [1.0, 0.0, 1.0, 1.0])
        self.assertEqual(columns["server_error"], [0.0] * 4)

    def test_reward_loop_batch_manager_awaits_compute_batch_async(self):
        _, fn = self.load("compute_batch_async")
        self.assertTrue(inspect.iscoroutinefunction(fn))
        label = json.dumps({"domain": "counting", "answer": "3"})  # the JSON label the other engines use
        data = rollout(self.tokenizer, [
            {"data_source": "glmv", "response": glm41v("3"), "ground_truth": label},
            {"data_source": "glmv", "response": glm41v("2"), "ground_truth": label},
        ])
        out = asyncio.run(reward_loop_batch(fn, self.tokenizer, data))
        self.assertEqual([o["reward_score"] for o in out], [1.0, 0.0])

    def test_a_4xx_raises_with_the_servers_message(self):
        module, fn = self.load("compute_score")
        with mock.patch.dict(os.environ, {"GLMV_SERVE_TOKEN": "wrong"}):
            with self.assertRaisesRegex(module.GlmvRequestError,
                                        r"HTTP 401 unauthorized: missing or wrong bearer token \(field authorization\)"):
                fn(data_source="counting", solution_str="three\n3", ground_truth="3", extra_info={})
        with self.assertRaisesRegex(module.GlmvRequestError,
                                    r'HTTP 400 bad_input: style must be one of 4\.1v, 4\.5v, got "5v" \(at items\.0\.style\)$'):
            fn(data_source="counting", solution_str="three\n3", ground_truth={"answer": "3", "style": "5v"}, extra_info={})


class AgainstStubServers(unittest.TestCase):
    """What the reward function returns when the server fails: stubs give each failure on cue."""

    def setUp(self):
        self.module, self.fn = get_custom_reward_fn(MODULE_PATH, "compute_score", {})

    def call(self):
        return self.fn(data_source="counting", solution_str="x", ground_truth="3", extra_info={})

    def test_a_5xx_is_retried(self):
        error = (503, {"error": {"code": "worker_crashed", "message": "warming up"}})
        stub = StubServer([error, (200, {"results": [reward_result(0)]})])
        self.addCleanup(stub.close)
        with reward_client_env(stub.url):
            self.assertEqual(self.call()["score"], 1.0)
        self.assertEqual(stub.hits, 2)

    def test_a_server_that_does_not_answer_in_time_is_score_0_timed_out_1_server_error_1(self):
        stub = StubServer([1.0])  # slower than the client's timeout, every time
        self.addCleanup(stub.close)
        with reward_client_env(stub.url, GLMV_REWARD_TIMEOUT_S="0.2", GLMV_REWARD_RETRIES="2"):
            self.assertEqual(self.call(),
                             {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "timed_out": 1.0, "server_error": 1.0})
        self.assertEqual(stub.hits, 2)

    def test_an_unreachable_server_is_score_0_server_error_1(self):
        stub = StubServer([(200, {})])
        url = stub.url
        stub.close()  # nothing listens there any more: connection refused
        with reward_client_env(url, GLMV_REWARD_RETRIES="2"):
            self.assertEqual(self.call(),
                             {"score": 0.0, "acc": 0.0, "format_ok": 0.0, "timed_out": 0.0, "server_error": 1.0})


if __name__ == "__main__":
    unittest.main()
