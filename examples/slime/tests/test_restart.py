"""The curriculum plug-ins (data source, all-samples observe hook) when `glmv serve curriculum` goes away mid-run:
a real server stopped and restarted on the same port with the same SQLite file, a reply lost after the server
committed, and a server that does not answer in time.

GLMV_TEST_CURRICULUM_CMD (set by test/examples-slime.test.ts) is the server's argv without `--port`; each test gives
it its own port and `--db`. Run as `python3 -m unittest tests.test_restart` from examples/slime.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
from types import SimpleNamespace

from .test_plugin import Sample  # installs the minimal slime first; puts glmv_slime, glmv_testing on the path

from glmv_testing import LocalServer, QuietHandler, ServerProcess, StubServer, patch_env  # noqa: E402

from glmv_slime import observe  # noqa: E402  (after the fakes)
from glmv_slime._http import request_json  # noqa: E402
from glmv_slime.data_source import CurriculumDataSource  # noqa: E402

CMD = os.environ.get("GLMV_TEST_CURRICULUM_CMD")
TOKEN = os.environ.get("GLMV_SERVE_TOKEN")
ARGS = SimpleNamespace(n_samples_per_prompt=2, reward_key=None)


class DropFirstReplyProxy(LocalServer):
    """Forwards every request to `upstream`; the first POST to `path` reaches the server, but its reply is dropped
    (the connection closes), as when a network blip eats an acknowledged observation."""

    def __init__(self, upstream: str, path: str = "/v1/observe"):
        self.bodies: list[dict] = []
        proxy = self

        class Handler(QuietHandler):
            def relay(self, body: bytes | None):
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                req = urllib.request.Request(upstream + self.path, data=body, headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=30) as res:
                        status, data = res.status, res.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                if self.path == path and len(proxy.bodies) == 1:
                    self.close_connection = True  # the server committed; the client never hears it
                    return
                self.send(status, data)

            def do_GET(self):
                self.relay(None)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path == path:
                    proxy.bodies.append(json.loads(body))
                self.relay(body)

        super().__init__(Handler)


def rewarded(groups: list[list], *rewards: tuple) -> list[list]:
    for group, values in zip(groups, rewards):
        for sample, value in zip(group, values):
            sample.reward = value
    return groups


class CurriculumEnv(unittest.TestCase):
    """Points the plug-ins at `url` for one test, with enough retries to wait out a restart."""

    def use(self, url: str, **extra: str) -> None:
        patch_env(self, {"GLMV_CURRICULUM_URL": url, "GLMV_CURRICULUM_RETRIES": "20",
                         "GLMV_CURRICULUM_BACKOFF_S": "0.25", **extra})

    def stats(self, url: str) -> tuple:
        stats = request_json(url + "/v1/stats", token=TOKEN)
        return stats["observeCalls"], stats["observedGroups"], stats["observedRollouts"]


@unittest.skipUnless(CMD, "GLMV_TEST_CURRICULUM_CMD not set (run through test/examples-slime.test.ts)")
class ServerRestartTest(CurriculumEnv):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        argv = json.loads(CMD)
        argv[argv.index("--db") + 1] = os.path.join(tmp.name, "curriculum.sqlite")
        self.server = ServerProcess(argv, "curriculum server")
        self.server.start()
        self.addCleanup(self.server.stop)
        self.use(self.server.url)

    def test_calls_made_while_the_server_restarts_on_the_same_port_are_retried_and_counted_once(self):
        source = CurriculumDataSource(ARGS)
        groups = rewarded(source.get_samples(2), (1.0, 0.0), (1.0, 1.0))  # the second: all right, filtered by slime
        first_step = source.step

        self.server.stop()
        restart = self.server.start_in_background()  # the hook's first tries are refused; a later one gets through
        first = observe.observe_all_samples(ARGS, groups, None)
        restart.join()
        self.assertEqual((first["groups"], first["duplicate"]), (2, False))
        again = observe.observe_all_samples(ARGS, groups, None)  # the same observation sent again
        self.assertEqual((again["groups"], again["duplicate"]), (0, True))
        self.assertEqual(self.stats(self.server.url), (1, 2, 4))
        dropped = groups[1][0].metadata["glmv_prompt_id"]
        prompt = request_json(f"{self.server.url}/v1/prompts/{dropped}", token=TOKEN)
        self.assertEqual((prompt["groups"], prompt["rollouts"], prompt["correct"]), (1, 2, 2))

        self.server.stop()
        restart = self.server.start_in_background()
        more = source.get_samples(1)  # the data source waits for the restarted server too
        restart.join()
        self.assertEqual(len(more), 1)
        self.assertGreater(source.step, first_step)  # the step counter lives in the same SQLite file

    def test_an_observation_whose_reply_was_lost_is_retried_with_its_requestId_and_counted_once(self):
        proxy = DropFirstReplyProxy(self.server.url)
        self.addCleanup(proxy.close)
        self.use(proxy.url)
        groups = rewarded(CurriculumDataSource(ARGS).get_samples(1), (1.0, 0.0))
        out = observe.observe_all_samples(ARGS, groups, None)
        self.assertEqual(len(proxy.bodies), 2)  # the lost try, and the retry
        self.assertEqual(proxy.bodies[0], proxy.bodies[1])  # same body, same requestId
        self.assertEqual(proxy.bodies[0]["requestId"], observe.observation(ARGS, groups)[1])
        self.assertEqual((out["groups"], out["duplicate"]), (0, True))  # the server had it already
        self.assertEqual(self.stats(self.server.url), (1, 1, 2))


class ObserveTimeoutTest(CurriculumEnv):
    def test_a_server_that_does_not_answer_in_time_is_a_logged_result_not_a_crash(self):
        stall = threading.Event()
        stub = StubServer(lambda body: (stall.wait(5), (200, {}))[1])
        self.addCleanup(stub.close)
        self.addCleanup(stall.set)
        self.use(stub.url, GLMV_CURRICULUM_TIMEOUT_S="0.3", GLMV_CURRICULUM_RETRIES="2")
        group = [Sample(index=i, reward=r, metadata={"glmv_prompt_id": "p1", "glmv_step": 4}) for i, r in enumerate((1, 0))]
        with self.assertLogs("glmv_slime.observe", "WARNING"):
            out = observe.observe_all_samples(ARGS, [group], None)
        request_id = observe.observation(ARGS, [group])[1]
        self.assertEqual(out["observed"], False)
        self.assertEqual((out["timedOut"], out["requestId"]), (True, request_id))
        self.assertIn("timed out", out["error"])
        self.assertEqual([b["requestId"] for b in stub.bodies], [request_id, request_id])  # stable across tries


if __name__ == "__main__":
    unittest.main()
