"""Where `glmv serve curriculum` is and how to call it (GLMV_CURRICULUM_URL, default http://127.0.0.1:8001;
GLMV_SERVE_TOKEN; GLMV_CURRICULUM_TIMEOUT_S, default 30; GLMV_CURRICULUM_RETRIES, default 5, 1 s backoff steps, so a
restarting server is waited for)."""

from __future__ import annotations

import os
from typing import Any

from ._http import env_float, request_json


def call(path: str, payload: dict | None = None) -> Any:
    url = os.environ.get("GLMV_CURRICULUM_URL", "http://127.0.0.1:8001").rstrip("/")
    return request_json(
        url + path,
        payload,
        token=os.environ.get("GLMV_SERVE_TOKEN"),
        timeout_s=env_float("GLMV_CURRICULUM_TIMEOUT_S", 30),
        tries=int(os.environ.get("GLMV_CURRICULUM_RETRIES", "5")),
        backoff_s=env_float("GLMV_CURRICULUM_BACKOFF_S", 1.0),
    )
