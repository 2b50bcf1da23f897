"""slime `--dynamic-sampling-filter-path glmv_slime.filters.keep_groups_with_reward_std`: keep a group only when
its rewards' standard deviation is above ε (GLMV_FILTER_STD_EPS, default 1e-6): an all-right or all-wrong group
has no GRPO advantage. The std is the sample std (n − 1), as slime's built-in filter computes it."""

from __future__ import annotations

import os
import statistics

try:  # slime wraps a bare bool itself; its own type carries the drop reason into rollout metrics
    from slime.rollout.filter_hub.base_types import DynamicFilterOutput
except ImportError:  # pragma: no cover - slime absent
    DynamicFilterOutput = None


def reward_value(args, sample) -> float:
    """The sample's scalar reward (`--reward-key` picks it out of a dict reward)."""
    sample = sample[0] if isinstance(sample, list) else sample  # fan-out fragments share one reward
    key = getattr(args, "reward_key", None)
    return float(sample.reward[key] if key else sample.reward)


def keep_groups_with_reward_std(args, samples, **kwargs):
    eps = float(os.environ.get("GLMV_FILTER_STD_EPS", "1e-6"))
    rewards = [reward_value(args, s) for s in samples]
    std = statistics.stdev(rewards) if len(rewards) > 1 else 0.0
    keep = std > eps
    if DynamicFilterOutput is None:
        return keep
    return DynamicFilterOutput(keep=keep, reason=None if keep else f"glmv_std_below_eps_{round(rewards[0], 1)}")
