"""The glmv slime plug-ins against real `glmv serve reward` / `glmv serve curriculum` processes (URLs in the
environment, set by test/examples-slime.test.ts) and a fake SGLang `/generate` server. slime itself needs GPUs, so
the pieces of it the hooks touch (`Sample`, `DynamicFilterOutput`) are reproduced here as minimal fakes."""

from __future__ import annotations

import asyncio
import enum
import json
import os
import sys
import tempfile
import threading
import time
import types
import unittest
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

# ---- minimal slime: the fields and types the hooks read and write --------------------------------------------------


@dataclass
class Sample:
    class Status(enum.Enum):
        PENDING = "pending"
        COMPLETED = "completed"
        TRUNCATED = "truncated"
        ABORTED = "aborted"

    group_index: int | None = None
    index: int | None = None
    prompt: Any = ""
    tokens: list = field(default_factory=list)
    multimodal_inputs: dict | None = None
    response: str = ""
    response_length: int = 0
    label: str | None = None
    reward: Any = None
    loss_mask: list | None = None
    weight_versions: list = field(default_factory=list)
    rollout_log_probs: list | None = None
    status: Status = Status.PENDING
    metadata: dict = field(default_factory=dict)


@dataclass
class DynamicFilterOutput:
    keep: bool
    reason: str | None = None


def _install_fake_slime() -> None:
    modules = {
        name: types.ModuleType(name)
        for name in ("slime", "slime.utils", "slime.utils.types", "slime.rollout", "slime.rollout.filter_hub",
                     "slime.rollout.filter_hub.base_types")
    }
    modules["slime.utils.types"].Sample = Sample
    modules["slime.rollout.filter_hub.base_types"].DynamicFilterOutput = DynamicFilterOutput
    sys.modules.update(modules)


_install_fake_slime()
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "_testing"))

from glmv_slime import filters, generate, observe, reward  # noqa: E402
from glmv_slime._http import GlmvRequestError  # noqa: E402
from glmv_slime.data_source import CurriculumDataSource  # noqa: E402
from glmv_testing import StubServer, patch_env  # noqa: E402

REWARD_URL = os.environ.get("GLMV_REWARD_URL")
CURRICULUM_URL = os.environ.get("GLMV_CURRICULUM_URL")


def answered(label: dict, response: str, **kw) -> Sample:
    return Sample(label=json.dumps(label), response=response, **kw)


class EnvCase(unittest.TestCase):
    env: dict = {}

    def setUp(self):
        patch_env(self, self.env)


@unittest.skipUnless(REWARD_URL, "GLMV_REWARD_URL not set")
class RewardTest(EnvCase):
    env = {"GLMV_REWARD_RETRIES": "1"}

    def test_group_rm_scores_the_whole_group_in_one_request(self):
        label = {"domain": "counting", "answer": "3"}
        group = [
            answered(label, "<think>one, two, three</think><answer><|begin_of_box|>3<|end_of_box|></answer>"),
            answered(label, "<think>one, two</think><answer><|begin_of_box|>2<|end_of_box|></answer>"),
            answered(label, "no tags at all: 3"),
        ]
        rewards = asyncio.run(reward.custom_rm(SimpleNamespace(group_rm=True), group))
        self.assertEqual(rewards, [1.0, 0.0, 0.0])
        self.assertEqual(group[0].metadata["glmv"], {"correct": 1, "format": "ok", "timed_out": 0, "server_error": 0})
        self.assertEqual(group[1].metadata["glmv"]["correct"], 0)
        self.assertNotEqual(group[2].metadata["glmv"]["format"], "ok")

    def test_one_sample_gets_a_float_and_a_plain_label_is_the_answer(self):
        one = Sample(label="3", response="<think>1, 2, 3</think><answer><|begin_of_box|>3<|end_of_box|></answer>")
        os.environ["GLMV_DOMAIN"] = "counting"
        try:
            self.assertEqual(asyncio.run(reward.custom_rm(SimpleNamespace(), one)), 1.0)
        finally:
            del os.environ["GLMV_DOMAIN"]

    def test_a_bad_label_raises_with_the_servers_message(self):
        bad = answered({"domain": "astrology", "answer": "3"}, "x")
        with self.assertRaises(GlmvRequestError) as ctx:
            asyncio.run(reward.custom_rm(SimpleNamespace(), [bad]))
        self.assertIn("HTTP 400", str(ctx.exception))
        self.assertIn("items.0.domain", str(ctx.exception))

    def test_a_timed_out_request_is_the_documented_reward_not_a_crash(self):
        stall = threading.Event()

        def slow(body):
            stall.wait(5)
            return 200, {"results": []}

        server = StubServer(slow)
        os.environ.update({"GLMV_REWARD_URL": server.url,
                           "GLMV_REWARD_TIMEOUT_S": "0.3", "GLMV_REWARD_ON_ERROR": "0.0"})
        try:
            group = [answered({"domain": "counting", "answer": "3"}, "3") for _ in range(2)]
            rewards = asyncio.run(reward.custom_rm(SimpleNamespace(group_rm=True), group))
        finally:
            stall.set()
            server.close()
            os.environ["GLMV_REWARD_URL"] = REWARD_URL
            del os.environ["GLMV_REWARD_TIMEOUT_S"], os.environ["GLMV_REWARD_ON_ERROR"]
        self.assertEqual(rewards, [0.0, 0.0])
        self.assertEqual(group[0].metadata["glmv"], {"correct": 0, "format": None, "timed_out": 1, "server_error": 1})


class FilterTest(unittest.TestCase):
    def test_keeps_groups_whose_reward_std_is_above_eps(self):
        args = SimpleNamespace(reward_key=None)
        mixed = [Sample(reward=r) for r in (1.0, 0.0, 1.0)]
        same = [Sample(reward=1.0) for _ in range(3)]
        self.assertEqual(filters.keep_groups_with_reward_std(args, mixed), DynamicFilterOutput(keep=True))
        dropped = filters.keep_groups_with_reward_std(args, same)
        self.assertFalse(dropped.keep)
        self.assertEqual(dropped.reason, "glmv_std_below_eps_1.0")
        keyed = [Sample(reward={"score": r}) for r in (0.5, 0.5)]
        self.assertFalse(filters.keep_groups_with_reward_std(SimpleNamespace(reward_key="score"), keyed).keep)


@unittest.skipUnless(CURRICULUM_URL, "GLMV_CURRICULUM_URL not set")
class DataSourceTest(EnvCase):
    def test_groups_come_from_the_curriculum_server_and_the_state_survives_a_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            args = SimpleNamespace(n_samples_per_prompt=3, save=tmp, load=tmp)
            source = CurriculumDataSource(args)
            groups = source.get_samples(2)
            self.assertEqual([len(g) for g in groups], [3, 3])
            self.assertEqual([s.index for g in groups for s in g], list(range(6)))
            self.assertEqual([g[0].group_index for g in groups], [0, 1])
            first = groups[0][0]
            self.assertIn(first.metadata["glmv_prompt_id"], {"p1", "p2", "p3"})
            self.assertEqual(json.loads(first.label)["domain"], "counting")
            self.assertTrue(first.prompt.startswith("How many"))
            self.assertNotEqual(groups[0][0].metadata["glmv_prompt_id"], groups[1][0].metadata["glmv_prompt_id"])
            self.assertEqual(len(source), 3)

            source.add_samples([groups[1]])  # an aborted partial group is served first next time
            again = source.get_samples(1)
            self.assertIs(again[0], groups[1])

            source.save(7)
            restored = CurriculumDataSource(args)
            restored.load(7)
            self.assertEqual((restored.sample_group_index, restored.sample_index, restored.step),
                             (2, 6, groups[0][0].metadata["glmv_step"]))
            self.assertEqual(restored.get_samples(1)[0][0].index, 6)  # counters continue, never reuse an index


class ForceAnswerTest(EnvCase):
    env = {"GLMV_THINKING_BUDGET": "4", "GLMV_FORCE_ANSWER_IDS": "901,902"}

    def fake_sglang(self, first_ids: list[int], first_text: str, first_finish: str):
        """Answers the first /generate with `first_*`, the second with `<answer>` text 7 then stop."""

        def answer(body):
            if len(server.bodies) == 1:
                ids, text, finish = first_ids, first_text, first_finish
            else:
                ids, text, finish = [50, 51], "3</answer>", "stop"
            pairs = [[-0.5, t, None] for t in ids]
            return 200, {"text": text, "meta_info": {"output_token_logprobs": pairs, "finish_reason": {"type": finish}}}

        server = StubServer(answer)
        self.addCleanup(server.close)
        return server, SimpleNamespace(sglang_router_ip="127.0.0.1", sglang_router_port=server.port)

    def test_an_unfinished_think_gets_the_answer_tags_injected_with_loss_mask_0(self):
        server, args = self.fake_sglang([11, 12, 13, 14], "<think>hmm hmm", "length")
        sample = Sample(prompt="How many?", tokens=[1, 2, 3])
        out = asyncio.run(generate.force_answer_generate(args, sample, {"max_new_tokens": 10, "temperature": 1.0}))
        self.assertEqual([r["input_ids"] for r in server.bodies], [[1, 2, 3], [1, 2, 3, 11, 12, 13, 14, 901, 902]])
        self.assertEqual([r["sampling_params"]["max_new_tokens"] for r in server.bodies], [4, 4])
        self.assertTrue(all(r["return_logprob"] and r["sampling_params"]["temperature"] == 1.0
                            for r in server.bodies))
        self.assertEqual(out.tokens, [1, 2, 3, 11, 12, 13, 14, 901, 902, 50, 51])
        self.assertEqual(out.response, "<think>hmm hmm</think><answer>3</answer>")
        self.assertEqual(out.response_length, 8)
        self.assertEqual(out.loss_mask, [1, 1, 1, 1, 0, 0, 1, 1])
        self.assertEqual(out.rollout_log_probs, [-0.5] * 4 + [0.0, 0.0] + [-0.5] * 2)
        self.assertEqual(out.status, Sample.Status.COMPLETED)
        self.assertTrue(out.metadata["glmv_forced_answer"])

    def test_a_closed_think_continues_without_injection_and_a_stop_needs_one_request(self):
        server, args = self.fake_sglang([11, 12, 13, 14], "<think>a</think><answer>", "length")
        out = asyncio.run(generate.force_answer_generate(args, Sample(tokens=[1]), {"max_new_tokens": 10}))
        self.assertEqual(server.bodies[1]["input_ids"], [1, 11, 12, 13, 14])
        self.assertEqual(server.bodies[1]["sampling_params"]["max_new_tokens"], 6)
        self.assertEqual(out.loss_mask, [1] * 6)
        self.assertNotIn("glmv_forced_answer", out.metadata)

        server, args = self.fake_sglang([11, 12], "<think>a</think><answer>3</answer>", "stop")
        out = asyncio.run(generate.force_answer_generate(args, Sample(tokens=[1]), {"max_new_tokens": 10}))
        self.assertEqual(len(server.bodies), 1)
        self.assertEqual((out.loss_mask, out.status), ([1, 1], Sample.Status.COMPLETED))


if __name__ == "__main__":
    unittest.main()
