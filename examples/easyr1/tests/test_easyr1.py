"""glmv_easyr1.compute_score called the way EasyR1 calls it, against a real `glmv serve reward`.

Run by test/examples-easyr1.test.ts, which starts the server and passes GLMV_REWARD_URL and GLMV_SERVE_TOKEN.
Standard library only: EasyR1 itself needs GPUs, so its batch reward manager is reproduced minimally below.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import unittest
from collections import defaultdict
from functools import partial
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_testing"))

from glmv_testing import StubServer, free_port, patch_env, reward_client_env, reward_result  # noqa: E402

MODULE_PATH = Path(__file__).resolve().parent.parent / "glmv_easyr1.py"
URL = os.environ.get("GLMV_REWARD_URL", "")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN", "")


def load_reward_function(spec_line: str, kwargs: dict):
    """EasyR1's FunctionRewardManager: `path.py:name` loaded as module `custom_reward_fn`, kwargs bound by partial."""
    path, name = spec_line.rsplit(":", 1)
    spec = importlib.util.spec_from_file_location("custom_reward_fn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, partial(getattr(module, name), **kwargs)


def batch_manager(reward_fn, responses: list[str], ground_truths: list[str]):
    """EasyR1's BatchFunctionRewardManager.compute_reward, minus tensors: one call, then metrics per key."""
    inputs = [
        {"response": r, "response_length": len(r.split()), "ground_truth": gt} for r, gt in zip(responses, ground_truths)
    ]
    scores = reward_fn(inputs)
    metrics = defaultdict(list)
    for score in scores:
        for key, value in score.items():
            metrics[key].append(value)
    return [s["overall"] for s in scores], {k: sum(v) / len(v) for k, v in metrics.items()}


def label(domain: str, answer: str, **extra) -> str:
    return json.dumps({"domain": domain, "answer": answer, **extra})


@unittest.skipUnless(URL, "GLMV_REWARD_URL is not set (run through test/examples-easyr1.test.ts)")
class AgainstGlmvServer(unittest.TestCase):
    def setUp(self):
        patch_env(self, {"GLMV_REWARD_URL": URL, "GLMV_SERVE_TOKEN": TOKEN, "GLMV_REWARD_TIMEOUT_S": "30"})
        self.module, self.reward_fn = load_reward_function(f"{MODULE_PATH}:compute_score", {})

    def test_batch_manager_scores_json_labels_and_plain_answers(self):
        rewards, metrics = batch_manager(
            self.reward_fn,
            ["I count one, two, three.\n3", "I count one, two, three.\n4", "48+24 makes\n72", "Reading it: \\boxed{B}"],
            [label("counting", "3"), label("counting", "3"), "72", label("choice", "B", options=["1", "2", "3"])],
        )
        self.assertEqual(rewards, [1.0, 0.0, 1.0, 1.0])
        self.assertEqual(set(metrics), {"overall", "format", "accuracy", "timed_out"})
        self.assertEqual(metrics["accuracy"], 0.75)
        self.assertEqual(metrics["timed_out"], 0.0)

    def test_plain_ground_truth_takes_the_domain_from_the_environment(self):
        with mock.patch.dict(os.environ, {"GLMV_EASYR1_DOMAIN": "counting"}):
            self.assertEqual(batch_manager(self.reward_fn, ["three\n3"], ["3"])[0], [1.0])
        with mock.patch.dict(os.environ, {"GLMV_EASYR1_DOMAIN": "nope"}):
            with self.assertRaisesRegex(self.module.GlmvRequestError, r"HTTP 400 bad_input: .*items\.0\.domain"):
                self.reward_fn([{"response": "3", "response_length": 1, "ground_truth": "3"}])

    def test_style_45v_from_the_environment_gates_a_glm45v_response(self):
        inputs = [{"response": "<think>one, two, three</think>3", "response_length": 5, "ground_truth": label("counting", "3")}]
        with mock.patch.dict(os.environ, {"GLMV_STYLE": "4.5v"}):
            self.assertEqual(self.reward_fn(inputs)[0]["overall"], 1.0)

    def test_4xx_raises_with_the_servers_message(self):
        with mock.patch.dict(os.environ, {"GLMV_SERVE_TOKEN": "wrong"}):
            with self.assertRaisesRegex(
                self.module.GlmvRequestError, r"HTTP 401 unauthorized: missing or wrong bearer token \(field authorization\)"
            ):
                self.reward_fn([{"response": "3", "response_length": 1, "ground_truth": label("counting", "3")}])
        with self.assertRaisesRegex(self.module.GlmvRequestError, r'style must be one of 4\.1v, 4\.5v, got "5v"'):
            self.reward_fn([{"response": "3", "response_length": 1, "ground_truth": label("counting", "3", style="5v")}])

    def test_sequential_reward_type_is_refused_with_a_hint(self):
        with self.assertRaisesRegex(ValueError, "reward_type=batch"):
            self.reward_fn({"response": "3", "response_length": 1, "ground_truth": "3"})


class AgainstStubServers(unittest.TestCase):
    """What the client does when the server fails: stubs give each failure on cue."""

    def setUp(self):
        self.module, self.reward_fn = load_reward_function(f"{MODULE_PATH}:compute_score", {})
        self.inputs = [{"response": "three\n3", "response_length": 2, "ground_truth": label("counting", "3")}]

    def test_one_request_per_call_and_a_5xx_is_retried(self):
        error = (503, {"error": {"code": "worker_crashed", "message": "warming up"}})
        stub = StubServer([error, (200, {"results": [reward_result(1, 0.0), reward_result(0, 1.0)]})])
        self.addCleanup(stub.close)
        two = self.inputs * 2
        with reward_client_env(stub.url):
            scores = self.reward_fn(two)
        self.assertEqual([s["overall"] for s in scores], [1.0, 0.0])  # matched by id, not by position
        self.assertEqual(stub.hits, 2)
        self.assertEqual(len(stub.bodies[1]["items"]), 2)
        self.assertEqual(stub.bodies[1]["specialTokens"], "stripped")

    def test_retries_until_a_restarted_server_answers(self):
        port = free_port()
        holder = {}

        def start_later():
            time.sleep(0.2)  # the first try is refused; the second (after 0.5 s) finds the server up
            holder["stub"] = StubServer([(200, {"results": [reward_result(0, 1.0)]})], port)

        starter = threading.Thread(target=start_later)
        starter.start()
        with reward_client_env(f"http://127.0.0.1:{port}"):
            scores = self.reward_fn(self.inputs)
        starter.join()
        self.addCleanup(holder["stub"].close)
        self.assertEqual(scores[0]["overall"], 1.0)

    def test_an_item_timeout_is_a_result_overall_0_timed_out_1(self):
        stub = StubServer([(200, {"results": [reward_result(0, 0.0, timed_out=True)]})])
        self.addCleanup(stub.close)
        with reward_client_env(stub.url):
            self.assertEqual(
                self.reward_fn(self.inputs), [{"overall": 0.0, "format": 0.0, "accuracy": 0.0, "timed_out": 1.0}]
            )

    def test_no_answer_after_the_retries_raises(self):
        stub = StubServer([1.0])  # slower than the client's timeout, every time
        self.addCleanup(stub.close)
        with reward_client_env(stub.url, GLMV_REWARD_TIMEOUT_S="0.2", GLMV_REWARD_RETRIES="2"):
            with self.assertRaisesRegex(self.module.GlmvServerUnavailable, "did not answer after 2 tries: .*timed out"):
                self.reward_fn(self.inputs)
        with reward_client_env(f"http://127.0.0.1:{free_port()}", GLMV_REWARD_RETRIES="2"):
            with self.assertRaisesRegex(self.module.GlmvServerUnavailable, "Connection refused"):
                self.reward_fn(self.inputs)


if __name__ == "__main__":
    unittest.main()
