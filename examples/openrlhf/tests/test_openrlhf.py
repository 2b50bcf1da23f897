"""OpenRLHF's remote reward client, reproduced minimally, against a real `glmv serve reward` (`POST /get_reward`).

OpenRLHF (openrlhf/utils/remote_rm_utils.py, read at commit 9b8641c1) POSTs `{"query", "prompts", "labels"}` with no
Authorization header, timeout 180 s, up to 5 tries one second apart, and reads the reply's `rewards` (newer
versions also `scores` and `extra_logs`); after the last failed try it raises, which stops the run. Run by
test/examples-openrlhf.test.ts, which passes GLMV_REWARD_URL, and GLMV_TEST_REWARD_CMD (the server's argv without
`--port`) for the tests that stop and restart a server of their own.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_testing"))

from glmv_testing import LocalServer, QuietHandler, ServerProcess  # noqa: E402

URL = os.environ.get("GLMV_REWARD_URL", "")
CMD = os.environ.get("GLMV_TEST_REWARD_CMD")
LABEL = json.dumps({"domain": "counting", "answer": "3"})
PROMPT = "[gMASK]<sop><|user|>\nHow many apples?<|assistant|>\n"
RIGHT = "<think>one, two, three</think><answer><|begin_of_box|>3<|end_of_box|></answer><|user|>"
WRONG = "<think>one, two, three, four</think><answer><|begin_of_box|>4<|end_of_box|></answer><|user|>"


def post(url: str, data: dict, tries: int = 5, timeout: float = 180, failed: list | None = None) -> dict:
    """remote_rm_utils.request_api_wrapper without `requests`: an HTTP error counts as a failed try. `failed`
    collects each failed try's error, so a test can see that the server really was away."""
    last = None
    for _ in range(tries):
        try:
            req = urllib.request.Request(
                url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            last = e
            if e.code < 500:
                raise  # OpenRLHF retries these too; failing at once keeps the test fast and shows the message
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as e:
            last = e
        if failed is not None:
            failed.append(last)
        time.sleep(1)
    raise RuntimeError(f"Request error for {tries} times: {last}")


class StallingProxy(LocalServer):
    """Forwards POSTs to `upstream`, but holds the first `stalls` of them for `stall_s` before answering 503."""

    def __init__(self, upstream: str, stalls: int, stall_s: float):
        self.hits, self.release = 0, threading.Event()
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                proxy.hits += 1
                if proxy.hits <= stalls:
                    proxy.release.wait(stall_s)
                    self.send(503, b"{}", content_type=None)
                    return
                req = urllib.request.Request(upstream + self.path, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as res:
                    self.send(res.status, res.read(), content_type=None)

        super().__init__(Handler)

    def close(self):
        self.release.set()
        super().close()


@unittest.skipUnless(URL, "GLMV_REWARD_URL is not set (run through test/examples-openrlhf.test.ts)")
class GetReward(unittest.TestCase):
    def test_query_prompts_labels_get_rewards_scores_and_extra_logs(self):
        label = json.dumps({"domain": "counting", "answer": "3"})
        reply = post(
            f"{URL}/get_reward",
            {"query": [PROMPT + RIGHT, PROMPT + WRONG], "prompts": [PROMPT, PROMPT], "labels": [label, label]},
        )
        self.assertEqual(reply["rewards"], [1, 0])
        self.assertEqual(reply["scores"], reply["rewards"])
        self.assertEqual(reply["extra_logs"]["timed_out"], [0, 0])
        self.assertEqual(reply["extra_logs"]["correct"], [1, 0])

    def test_without_prompts_the_response_follows_the_last_assistant_token(self):
        reply = post(f"{URL}/get_reward", {"query": [PROMPT + RIGHT], "labels": [{"domain": "counting", "answer": "3"}]})
        self.assertEqual(reply["rewards"], [1])

    def test_a_bad_label_is_400_naming_the_field(self):
        with self.assertRaises(urllib.error.HTTPError) as caught:
            post(f"{URL}/get_reward", {"query": [PROMPT + RIGHT], "prompts": [PROMPT], "labels": ['{"domain": "x"}']})
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("labels.0.domain", caught.exception.read().decode())

    def test_the_oldest_query_only_body_is_400_asking_for_labels(self):
        with self.assertRaises(urllib.error.HTTPError) as caught:
            post(f"{URL}/get_reward", {"query": [PROMPT + RIGHT]})
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("labels", caught.exception.read().decode())


@unittest.skipUnless(CMD, "GLMV_TEST_REWARD_CMD is not set (run through test/examples-openrlhf.test.ts)")
class ServerRestart(unittest.TestCase):
    def test_a_request_sent_while_the_server_restarts_on_the_same_port_is_retried_and_scored(self):
        server = ServerProcess(json.loads(CMD), "reward server")
        server.start()
        self.addCleanup(server.stop)
        body = {"query": [PROMPT + RIGHT, PROMPT + WRONG], "prompts": [PROMPT, PROMPT], "labels": [LABEL, LABEL]}
        self.assertEqual(post(f"{server.url}/get_reward", body)["rewards"], [1, 0])
        server.stop()
        restart = server.start_in_background()
        failed: list = []
        # OpenRLHF's 5 tries span about 5 s; a slow CI machine may take longer to start node, so allow more here
        reply = post(f"{server.url}/get_reward", body, tries=30, failed=failed)
        restart.join()
        self.assertGreaterEqual(len(failed), 1)  # the server really was away: refused tries, then an answer
        self.assertIn("Connection refused", str(failed[0]))
        self.assertEqual(reply["rewards"], [1, 0])  # scoring is pure: a retried batch gets the same rewards


@unittest.skipUnless(URL, "GLMV_REWARD_URL is not set (run through test/examples-openrlhf.test.ts)")
class ClientTimeout(unittest.TestCase):
    body = {"query": [PROMPT + RIGHT], "prompts": [PROMPT], "labels": [LABEL]}

    def test_a_try_that_runs_past_the_client_timeout_is_retried(self):
        proxy = StallingProxy(URL, stalls=1, stall_s=5)
        self.addCleanup(proxy.close)
        failed: list = []
        reply = post(f"{proxy.url}/get_reward", self.body, timeout=0.3, failed=failed)
        self.assertEqual(reply["rewards"], [1])
        self.assertEqual((proxy.hits, len(failed)), (2, 1))
        self.assertIn("timed out", str(failed[0]))

    def test_a_server_that_never_answers_in_time_raises_after_the_tries(self):
        proxy = StallingProxy(URL, stalls=99, stall_s=5)
        self.addCleanup(proxy.close)
        with self.assertRaisesRegex(RuntimeError, "Request error for 2 times: .*timed out"):
            post(f"{proxy.url}/get_reward", self.body, tries=2, timeout=0.3)


if __name__ == "__main__":
    unittest.main()
