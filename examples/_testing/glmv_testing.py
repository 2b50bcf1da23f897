"""Test scaffolding shared by the examples' unittest suites (`examples/<engine>/tests`): local HTTP stand-ins for a
server that fails on cue, and a glmv server process a test stops and starts again on the same port.

Standard library only. Not part of any example: the modules users copy into an engine (verl's compute_score.py,
TRL's glmv_reward.py, EasyR1's glmv_easyr1.py) stay single files. A suite imports this after
`sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_testing"))`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock


def patch_env(case: unittest.TestCase, env: dict[str, str]) -> None:
    """Set `env` in os.environ for the rest of `case`'s test; the environment comes back as it was afterwards."""
    patcher = mock.patch.dict(os.environ, env)
    patcher.start()
    case.addCleanup(patcher.stop)


def reward_client_env(url: str, **extra: str):
    """A context with the reward clients pointed at `url` (a stub), a 5 s timeout unless `extra` says otherwise."""
    return mock.patch.dict(os.environ, {"GLMV_REWARD_URL": url, "GLMV_REWARD_TIMEOUT_S": "5", **extra})


def free_port() -> int:
    """A port that was free a moment ago: for a server the test starts later, or for a refused connection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and tolerates a client that stopped waiting."""

    def send(self, status: int, data: bytes, content_type: str | None = "application/json") -> None:
        try:
            self.send_response(status)
            if content_type:
                self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is the case under test

    def log_message(self, *args):
        pass


class LocalServer:
    """`handler` (a BaseHTTPRequestHandler class) served on 127.0.0.1 in a daemon thread until `close()`; port 0 is
    any free port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StubServer(LocalServer):
    """A stand-in server: records each POST's JSON body in `bodies` and answers it with `replies`, either a function
    of the body returning (status, body), or a list taken in turn (the last repeats) of (status, body) or a delay in
    seconds, after which it answers 200 with no results."""

    def __init__(self, replies, port: int = 0):
        self.replies, self.hits, self.bodies = replies, 0, []
        stub = self

        class Handler(QuietHandler):
            def do_POST(self):
                stub.bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                stub.hits += 1
                status, body = stub.reply(stub.bodies[-1])
                self.send(status, json.dumps(body).encode())

        super().__init__(Handler, port)

    def reply(self, body) -> tuple[int, object]:
        if callable(self.replies):
            return self.replies(body)
        reply = self.replies[min(self.hits, len(self.replies)) - 1]
        if isinstance(reply, (int, float)):
            time.sleep(reply)
            return 200, {"results": []}
        return reply


def reward_result(i: int, reward: float = 1, timed_out: bool = False) -> dict:
    """One item of `glmv serve reward`'s reply, as a stub gives it (format "timeout" when the reward is 0)."""
    fmt = "ok" if reward else "timeout"
    return {"id": i, "reward": reward, "correct": reward == 1, "format": fmt, "extracted": "3", "timedOut": timed_out}


class ServerProcess:
    """A `glmv serve …` process from `argv` (no `--port`) on a fixed port, stopped and started again by the test."""

    def __init__(self, argv: list[str], name: str = "glmv server"):
        self.argv, self.name, self.port = argv, name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.child: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and return once it prints `listening on`."""
        child = subprocess.Popen(self.argv + ["--port", str(self.port)], stdout=subprocess.PIPE, text=True)
        for line in child.stdout:
            if "listening on" in line:
                self.child = child
                return
        raise AssertionError(f"{self.name} exited before listening: {child.wait()}")

    def start_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.start)
        thread.start()
        return thread

    def stop(self) -> None:
        if self.child:
            self.child.terminate()
            self.child.wait(10)
            self.child.stdout.close()
            self.child = None
