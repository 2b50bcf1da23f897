"""slime's built-in remote reward model (``--rm-type remote_rm``) against ``glmv serve reward``.

slime's ``remote_rm`` (``slime/rollout/rm_hub/__init__.py``) POSTs ``{"prompt", "response", "label"}`` for one
sample, as JSON, with no authorization header, to ``--rm-url``; a non-2xx reply raises (``raise_for_status``) and
is retried, and the JSON reply becomes ``sample.reward``, read through ``--reward-key`` (``Sample.get_reward_value``).
This test sends that exact request with urllib (standard library only). Run it with ``GLMV_RM_URL`` set to the
server's ``/get_reward`` URL; the vitest wrapper ``test/examples-slime-remote-rm.test.ts`` does.
"""

import json
import os
import unittest
import urllib.error
import urllib.request

RM_URL = os.environ.get("GLMV_RM_URL", "")
BOX_OPEN, BOX_CLOSE = "<|begin_of_box|>", "<|end_of_box|>"
PROMPT = "[gMASK]<sop><|user|>How many apples are in the picture?<|assistant|>"


class Sample:
    """The fields of slime's ``Sample`` that ``remote_rm`` sends and ``get_reward_value`` reads."""

    def __init__(self, prompt, response, label):
        self.prompt = prompt
        self.response = response
        self.label = label
        self.reward = None

    def get_reward_value(self, args):
        return self.reward if not args.reward_key else self.reward[args.reward_key]


class Args:
    """The slime arguments this path reads: ``--rm-url`` and ``--reward-key``."""

    def __init__(self, rm_url, reward_key="reward"):
        self.rm_url = rm_url
        self.reward_key = reward_key


def remote_rm(args, sample):
    """One attempt of slime's request: the payload, JSON-encoded, an error on any non-2xx status."""
    payload = {"prompt": sample.prompt, "response": sample.response, "label": sample.label}
    request = urllib.request.Request(
        args.rm_url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.loads(reply.read().decode("utf-8"))


def answer(text):
    return "<think>One, two, three apples.</think><answer>%s%s%s</answer>" % (BOX_OPEN, text, BOX_CLOSE)


def label(domain, gold):
    return json.dumps({"domain": domain, "answer": gold})


@unittest.skipUnless(RM_URL, "GLMV_RM_URL is not set (start glmv serve reward and point it at /get_reward)")
class RemoteRmTest(unittest.TestCase):
    def score(self, sample):
        args = Args(RM_URL)
        sample.reward = remote_rm(args, sample)
        return sample.get_reward_value(args)

    def test_right_answer_scores_1_with_breakdown(self):
        sample = Sample(PROMPT, answer("3"), label("counting", "3"))
        self.assertEqual(self.score(sample), 1)
        self.assertIs(sample.reward["correct"], True)
        self.assertEqual(sample.reward["format"], "ok")
        self.assertEqual(sample.reward["extracted"], "3")
        for key in ("stage", "reason", "timedOut"):
            self.assertIn(key, sample.reward)

    def test_wrong_answer_scores_0(self):
        sample = Sample(PROMPT, answer("4"), label("counting", "3"))
        self.assertEqual(self.score(sample), 0)
        self.assertIs(sample.reward["correct"], False)

    def test_chat_prompt_and_object_label(self):
        messages = [{"role": "user", "content": "How many apples are in the picture?"}]
        sample = Sample(messages, answer("3"), {"domain": "counting", "answer": "3"})
        self.assertEqual(self.score(sample), 1)

    def test_retry_gets_the_same_answer(self):
        first = remote_rm(Args(RM_URL), Sample(PROMPT, answer("3"), label("counting", "3")))
        again = remote_rm(Args(RM_URL), Sample(PROMPT, answer("3"), label("counting", "3")))
        self.assertEqual(first, again)

    def test_malformed_label_is_a_4xx_naming_the_field(self):
        cases = [("3", "label"), ("counting:3", "label"), (label("astrology", "3"), "label.domain")]
        for bad, field in cases:
            with self.subTest(label=bad):
                with self.assertRaises(urllib.error.HTTPError) as caught:
                    remote_rm(Args(RM_URL), Sample(PROMPT, answer("3"), bad))
                self.assertEqual(caught.exception.code, 400)
                error = json.loads(caught.exception.read().decode("utf-8"))["error"]
                self.assertEqual(error["field"], field)


if __name__ == "__main__":
    unittest.main()
