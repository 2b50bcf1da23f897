"""slime `--rollout-all-samples-process-path glmv_slime.observe.observe_all_samples`: after each rollout, every
group's rewards (filtered groups included: a dropped all-right group is exactly what the curriculum must learn)
go to `glmv serve curriculum` (`POST /v1/observe`).

The request carries a `requestId` derived from the groups themselves (prompt ids, step, sample indices), so sending
the same observation again (a retry after a server restart, a resumed rollout) is acknowledged without being
counted twice. Rewards are clipped to [0, 1] (the server's range); `--reward-key` picks a dict reward's value.
Groups without `metadata["glmv_prompt_id"]` (not from `CurriculumDataSource`) are skipped.

Failures: connection errors, timeouts and 5xx are retried (GLMV_CURRICULUM_RETRIES, same requestId, so a try whose
reply was lost is acknowledged as a duplicate). With no answer after the retries the hook logs a warning and returns
`{"observed": False, "timedOut": …, "error": …, "requestId": …}` instead of stopping the rollout: the curriculum
misses one step's statistics, training goes on. A 4xx (wrong token, unknown prompt id) raises `GlmvRequestError`.
"""

from __future__ import annotations

import hashlib
import json
import logging

from . import curriculum
from ._http import GlmvServerUnavailable
from .filters import reward_value

logger = logging.getLogger(__name__)


def observation(args, all_samples: list) -> tuple[list[dict], str]:
    """The /v1/observe results and their requestId."""
    results, keys = [], []
    for group in all_samples:
        flat = [s[0] if isinstance(s, list) else s for s in group]
        meta = flat[0].metadata or {}
        if "glmv_prompt_id" not in meta:
            continue
        rewards = [min(1.0, max(0.0, reward_value(args, s))) for s in flat]
        results.append({"id": meta["glmv_prompt_id"], "rewards": rewards})
        keys.append([meta["glmv_prompt_id"], meta.get("glmv_step"), [s.index for s in flat]])
    digest = hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:32]
    return results, f"slime-{digest}"


def observe_all_samples(args, all_samples, data_source=None) -> dict | None:
    results, request_id = observation(args, all_samples)
    if not results:
        return None
    try:
        return curriculum.call("/v1/observe", {"results": results, "requestId": request_id})
    except GlmvServerUnavailable as e:
        logger.warning("glmv curriculum observation %s lost: %s", request_id, e)
        return {"observed": False, "timedOut": e.timed_out, "error": str(e), "requestId": request_id}
