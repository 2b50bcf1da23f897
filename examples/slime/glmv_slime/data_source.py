"""slime `--data-source-path glmv_slime.data_source.CurriculumDataSource`: prompts drawn by `glmv serve curriculum`
(`POST /v1/sample`), by RLCS weight, instead of read in order from `--prompt-data`.

Each prompt line of the server's JSONL becomes a group of `--n-samples-per-prompt` Samples:
- `prompt`: the line's `prompt` (text) or `messages` (OpenAI messages);
- `label`: the line's `label` (a JSON string, or an object, sent as JSON), else a JSON object of its `domain`,
  `answer`, `question`, `options`, `style` (what `glmv_slime.reward.custom_rm` reads);
- `multimodal_inputs`: `{"images": line.images}` when the line has images;
- `metadata`: `glmv_prompt_id` and `glmv_step`, which the all-samples hook sends back to `/v1/observe`.

Aborted partial groups (`add_samples`) are served again first. `save(rollout_id)` / `load(rollout_id)` keep the
group and sample counters, the buffer size and the server's step in `<--save>/rollout/glmv_curriculum_<id>.json`
(the curriculum statistics themselves live in the server's SQLite file, which survives restarts on its own).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile

from . import curriculum

try:
    from slime.utils.types import Sample
except ImportError:  # pragma: no cover - only inside slime
    Sample = None

logger = logging.getLogger(__name__)
_LABEL_FIELDS = ("domain", "answer", "question", "options", "style", "verifiable", "answerFormat")


def _label_of(line: dict) -> str | None:
    label = line.get("label")
    if isinstance(label, str):
        return label
    if isinstance(label, dict):
        return json.dumps(label)
    fields = {k: line[k] for k in _LABEL_FIELDS if k in line}
    return json.dumps(fields) if fields else None


class CurriculumDataSource:
    """slime's DataSource interface (get_samples, add_samples, save, load, __len__) over the curriculum server."""

    def __init__(self, args):
        self.args = args
        self.sample_group_index = 0
        self.sample_index = 0
        self.step = 0
        self.next_n = None  # the server's hint: how many prompts to ask for to keep the batch full
        self.buffer: list[list] = []

    def _group(self, line: dict, step: int) -> list:
        template = Sample(
            prompt=line.get("prompt", line.get("messages", "")),
            label=_label_of(line),
            metadata={"glmv_prompt_id": str(line["id"]), "glmv_step": step},
        )
        if line.get("images"):
            template.multimodal_inputs = {"images": list(line["images"])}
        group = []
        for _ in range(self.args.n_samples_per_prompt):
            sample = copy.deepcopy(template)
            sample.group_index, sample.index = self.sample_group_index, self.sample_index
            self.sample_index += 1
            group.append(sample)
        self.sample_group_index += 1
        return group

    def get_samples(self, num_samples: int) -> list[list]:
        groups = self.buffer[:num_samples]
        del self.buffer[: len(groups)]
        wanted = num_samples - len(groups)
        if wanted > 0:
            reply = curriculum.call("/v1/sample", {"n": wanted})
            self.step, self.next_n = reply["step"], reply.get("nextN")
            groups += [self._group(line, reply["step"]) for line in reply["prompts"]]
        return groups

    def add_samples(self, samples: list[list]) -> None:
        self.buffer.extend(samples)

    def _path(self, root: str, rollout_id) -> str:
        return os.path.join(root, "rollout", f"glmv_curriculum_{rollout_id}.json")

    def save(self, rollout_id) -> None:
        if not getattr(self.args, "save", None):
            return
        path = self._path(self.args.save, rollout_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        state = {
            "sample_group_index": self.sample_group_index,
            "sample_index": self.sample_index,
            "step": self.step,
            "buffered_groups": len(self.buffer),
        }
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(state, f)
        os.replace(tmp, path)  # a crash mid-write never leaves half a state file

    def load(self, rollout_id=None) -> None:
        if not getattr(self.args, "load", None) or rollout_id is None:
            return
        path = self._path(self.args.load, rollout_id)
        if not os.path.exists(path):
            logger.info("glmv curriculum state %s does not exist; starting fresh", path)
            return
        with open(path) as f:
            state = json.load(f)
        self.sample_group_index = state["sample_group_index"]
        self.sample_index = state["sample_index"]
        self.step = state["step"]

    def __len__(self) -> int:
        return int(curriculum.call("/v1/stats")["prompts"])
