"""OpenRLHF's remote reward client, reproduced minimally, against a real `glmv serve reward` (`POST /get_reward`).

OpenRLHF (openrlhf/utils/remote_rm_utils.py, read at commit 9b8641c1) POSTs `{"query", "prompts", "labels"}` with no
Authorization header, timeout 180 s, up to 5 tries one second apart, and reads the reply's `rewards` (newer
versions also `scores` and `extra_logs`). Run by test/examples-openrlhf.test.ts, which passes GLMV_REWARD_URL.
"""

from __future__ import annotations

import json
import os
import time
import unittest
import urllib.error
import urllib.request

URL = os.environ.get("GLMV_REWARD_URL", "")
PROMPT = "[gMASK]<sop><|user|>\nHow many apples?<|assistant|>\n"
RIGHT = "<think>one, two, three</think><answer><|begin_of_box|>3<|end_of_box|></answer><|user|>"
WRONG = "<think>one, two, three, four</think><answer><|begin_of_box|>4<|end_of_box|></answer><|user|>"


def post(url: str, data: dict, tries: int = 5) -> dict:
    """remote_rm_utils.request_api_wrapper without `requests`: an HTTP error counts as a failed try."""
    last = None
    for _ in range(tries):
        try:
            req = urllib.request.Request(
                url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(req, timeout=180) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            last = e
            if e.code < 500:
                raise  # OpenRLHF retries these too; failing at once keeps the test fast and shows the message
        except urllib.error.URLError as e:
            last = e
        time.sleep(1)
    raise RuntimeError(f"Request error for {tries} times: {last}")


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


if __name__ == "__main__":
    unittest.main()
