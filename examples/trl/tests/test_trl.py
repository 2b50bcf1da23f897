"""examples/trl/glmv_reward.py called the way TRL's GRPOTrainer calls it, against a real `glmv serve reward`.

Run by test/examples-trl.test.ts, which starts the server (`--special-tokens stripped`, as TRL decodes) and passes
GLMV_REWARD_URL and GLMV_SERVE_TOKEN. Standard library only: TRL needs torch, so the part of GRPOTrainer that meets
reward functions (`_calculate_rewards` and the conversational completions built before it, read from
huggingface/trl trl/trainer/grpo_trainer.py) is reproduced minimally below.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import os
import sys
import unittest
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1] / "_testing"))

import glmv_reward as module  # noqa: E402
from glmv_testing import StubServer, patch_env, reward_client_env, reward_result  # noqa: E402

URL = os.environ.get("GLMV_REWARD_URL", "")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN", "")
GSM8K_NATALIA = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
                 "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72")

# ---- minimal TRL ---------------------------------------------------------------------------------------------------


@dataclass
class TrainerState:
    global_step: int = 0


class Image:
    """A PIL image as an image dataset's `image` column holds it: not JSON-serializable."""

    size = (28, 28)


class Trainer:
    """GRPOTrainer's reward step: completions built from the decoded texts, then `_calculate_rewards`."""

    def __init__(self, reward_funcs):
        self.reward_funcs = reward_funcs
        self.state = TrainerState(global_step=3)
        self.extra_columns: dict[str, list] = {}
        self.metrics: dict[str, list[float]] = {}

    def completions(self, inputs: list[dict], texts: list[str]):
        """Conversational rows: a prefilled assistant turn is popped from the prompt and prepended."""
        prompts = [json.loads(json.dumps(x["prompt"], default=str)) if isinstance(x["prompt"], list) else x["prompt"]
                   for x in inputs]
        if not isinstance(prompts[0], list):
            return prompts, texts
        completions = []
        for prompt, text in zip(prompts, texts):
            bootstrap = prompt.pop()["content"] if prompt[-1]["role"] == "assistant" else ""
            completions.append([{"role": "assistant", "content": bootstrap + text}])
        return prompts, completions

    def calculate_rewards(self, inputs: list[dict], prompts, completions, completion_ids) -> list[list[float]]:
        keys = [key for key in inputs[0] if key not in ("prompt", "completion", "completion_ids")]
        reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
        reward_kwargs["trainer_state"] = self.state
        reward_kwargs["log_extra"] = lambda column, values: self.extra_columns.__setitem__(column, values)
        reward_kwargs["log_metric"] = lambda name, value: self.metrics.setdefault(name, []).append(value)
        columns: list[list[float]] = []
        for func in self.reward_funcs:
            call = dict(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
            output = asyncio.run(func(**call)) if inspect.iscoroutinefunction(func) else func(**call)
            columns.append([math.nan if r is None else float(r) for r in output])
        return [list(row) for row in zip(*columns)]  # (completions, reward funcs)

    def step(self, rows: list[dict], texts: list[list[str]]) -> list[list[float]]:
        """Each row repeated once per generation (num_generations = len(texts[i])), as the sampler does."""
        inputs = [row for row, group in zip(rows, texts) for _ in group]
        flat = [t for group in texts for t in group]
        prompts, completions = self.completions(inputs, flat)
        return self.calculate_rewards(inputs, prompts, completions, [[0] * len(t) for t in flat])


def conversational(question: str, **columns) -> dict:
    """An image dataset row: the prompt's user turn holds an image part, the image itself is a column."""
    user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}
    return {"prompt": [user], "image": Image(), **columns}


# ---- tests ---------------------------------------------------------------------------------------------------------


@unittest.skipUnless(URL, "GLMV_REWARD_URL is not set (run through test/examples-trl.test.ts)")
class AgainstGlmvServer(unittest.TestCase):
    def setUp(self):
        patch_env(self, {"GLMV_REWARD_URL": URL, "GLMV_SERVE_TOKEN": TOKEN, "GLMV_REWARD_TIMEOUT_S": "30"})

    def test_standard_rows_score_by_domain_with_none_for_other_domains_and_answer_formats(self):
        rows = [
            {"prompt": "How many?", "answer": "3", "domain": "counting", "answerFormat": None},
            {"prompt": "Summarise.", "answer": "x", "domain": "other", "answerFormat": None},
            {"prompt": "Natalia…", "answer": "72", "domain": "math", "answerFormat": "gsm8k"},
        ]
        texts = [["I count three.\n3", "Four?\n4"], ["n/a"], [GSM8K_NATALIA]]
        rewards = Trainer([module.glmv_reward]).step(rows, texts)
        self.assertEqual(rewards[:2], [[1.0], [0.0]])
        self.assertTrue(math.isnan(rewards[2][0]))  # None: not applicable, TRL's NaN
        self.assertEqual(rewards[3], [1.0])

    def test_conversational_image_rows_score_the_assistant_message_and_never_send_the_image(self):
        trainer = Trainer([module.glmv_reward])
        row = conversational("How many apples?", answer="3", domain="counting")
        row["prompt"].append({"role": "assistant", "content": "<think>"})  # a prefilled turn TRL prepends back
        box = "<answer><|begin_of_box|>{}<|end_of_box|></answer>"  # tags kept: the tokenizer does not mark them special
        texts = ["one, two, three</think>" + box.format(3), "one, two</think>" + box.format(2), "three</think>3"]
        rewards = trainer.step([row], [texts])
        self.assertEqual(rewards, [[1.0], [0.0], [0.0]])
        self.assertEqual(trainer.extra_columns["glmv_format"][:2], ["ok", "ok"])
        self.assertNotEqual(trainer.extra_columns["glmv_format"][2], "ok")  # no <answer>: the 4.1v gate fails it
        self.assertEqual(trainer.metrics["glmv/timeouts"], [0.0])

    def test_a_tool_calling_completion_scores_its_last_assistant_message(self):
        final = "<think>one, two, three</think><answer><|begin_of_box|>3<|end_of_box|></answer>"
        completion = [
            {"role": "assistant", "content": "<think>Zoom in first.</think>",
             "tool_calls": [{"type": "function", "function": {"name": "zoom"}}]},
            {"role": "tool", "content": "4 apples?"},
            {"role": "assistant", "content": [{"type": "text", "text": final}]},
        ]
        rewards = module.glmv_reward(prompts=[[]], completions=[completion], completion_ids=[[1]], answer=["3"],
                                     domain=["counting"], trainer_state=TrainerState())
        self.assertEqual(rewards, [1.0])

    def test_the_async_variant_is_awaited_and_a_solution_column_is_the_answer(self):
        trainer = Trainer([module.glmv_reward_async, module.glmv_reward])
        rewards = trainer.step([{"prompt": "How many?", "solution": "3", "domain": "counting"}],
                               [["three\n3", "four\n4"]])
        self.assertEqual(rewards, [[1.0, 1.0], [0.0, 0.0]])

    def test_glmv_style_45v_gates_a_glm45v_completion(self):
        call = dict(prompts=["q"], completions=["<think>one, two, three</think>3"], answer=["3"], domain=["counting"])
        with mock.patch.dict(os.environ, {"GLMV_STYLE": "4.5v"}):
            self.assertEqual(module.glmv_reward(**call), [1.0])
        self.assertEqual(module.glmv_reward(**call), [0.0])  # the server's 4.1v gate wants <answer>

    def test_a_4xx_raises_with_the_servers_message(self):
        call = dict(prompts=["q"], completions=["three\n3"], answer=["3"], domain=["counting"])
        with mock.patch.dict(os.environ, {"GLMV_SERVE_TOKEN": "wrong"}):
            with self.assertRaisesRegex(module.GlmvRequestError,
                                        r"HTTP 401 unauthorized: missing or wrong bearer token \(field authorization\)"):
                module.glmv_reward(**call)
        with self.assertRaisesRegex(module.GlmvRequestError, r'style must be one of 4\.1v, 4\.5v, got "5v"'):
            module.glmv_reward(**call, style=["5v"])

    def test_a_dataset_without_an_answer_column_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "answer, ground_truth, solution"):
            module.glmv_reward(prompts=["q"], completions=["3"], domain=["counting"])


class AgainstStubServers(unittest.TestCase):
    """What the reward function does when the server fails: stubs give each failure on cue."""

    call = dict(prompts=["q"], completions=["three\n3"], answer=["3"], domain=["counting"])

    def test_a_5xx_is_retried(self):
        error = (503, {"error": {"code": "worker_crashed", "message": "warming up"}})
        stub = StubServer([error, error, (200, {"results": [reward_result(0)]})])
        self.addCleanup(stub.close)
        with reward_client_env(stub.url):
            self.assertEqual(module.glmv_reward(**self.call), [1.0])
        self.assertEqual(stub.hits, 3)

    def test_a_server_that_does_not_answer_in_time_raises_with_timed_out_set(self):
        stub = StubServer([1.0])
        self.addCleanup(stub.close)
        with reward_client_env(stub.url, GLMV_REWARD_TIMEOUT_S="0.2", GLMV_REWARD_RETRIES="2"):
            with self.assertRaisesRegex(module.GlmvServerUnavailable, r"did not answer after 2 tries: timed out") as ctx:
                module.glmv_reward(**self.call)
        self.assertTrue(ctx.exception.timed_out)

    def test_an_unreachable_server_raises_after_the_retries(self):
        stub = StubServer([(200, {})])
        url = stub.url
        stub.close()
        with reward_client_env(url, GLMV_REWARD_RETRIES="2"):
            with self.assertRaisesRegex(module.GlmvServerUnavailable, "after 2 tries: .*Connection refused") as ctx:
                module.glmv_reward(**self.call)
        self.assertFalse(ctx.exception.timed_out)


if __name__ == "__main__":
    unittest.main()
