#!/usr/bin/env bash
# OpenRLHF GRPO with glmv's reward server as the remote reward model.
# Start the server first (one per node is enough; it answers OpenRLHF's one-sample requests concurrently):
#   glmv serve reward --deadline-ms 2000                       # 127.0.0.1:8000, special tokens kept (OpenRLHF)
#   glmv serve reward --host 0.0.0.0 --token "$GLMV_SERVE_TOKEN"   # reachable from other nodes: token required
#
# OPENRLHF_CLI=dotted (v0.10.2 and later: --reward.remote_url) or flat (v0.9.x and earlier: --remote_rm_url).
# The dataset's label column holds each item's JSON label: {"domain":"math","answer":"4","question":…,"options":…}.
# OpenRLHF's HTTP client sends no Authorization header: with --token, put an authenticating proxy in front, or
# keep the server on loopback of the node that runs the vLLM engines.
set -euo pipefail

REWARD_URL="${GLMV_REWARD_URL:-http://127.0.0.1:8000}/get_reward"
OPENRLHF_CLI="${OPENRLHF_CLI:-dotted}"
PRETRAIN="${PRETRAIN:-zai-org/GLM-4.1V-9B-Thinking}"
DATA="${DATA:-data/glmv_rl.jsonl}"
SAVE="${SAVE:-checkpoint/glmv-grpo}"

if [[ "$OPENRLHF_CLI" == "dotted" ]]; then
  # Names as in OpenRLHF's examples/scripts/train_vlm_math_hybrid_engine.sh (dotted CLI).
  args=(
    --reward.remote_url "$REWARD_URL"
    --actor.model_name_or_path "$PRETRAIN" --ckpt.output_dir "$SAVE"
    --data.prompt_dataset "$DATA" --data.input_key prompt --data.label_key label --data.apply_chat_template
    --data.image_key images --data.max_images_per_prompt 1
    --rollout.n_samples_per_prompt 8
    --algo.advantage.estimator group_norm --algo.kl.init_coef 0
    --actor.eps_clip_low_high 0.2 0.28
    --algo.dynamic_filtering_enable --algo.dynamic_filtering_range 0.0 1.0
  )
else
  args=(
    --remote_rm_url "$REWARD_URL"
    --pretrain "$PRETRAIN" --save_path "$SAVE"
    --prompt_data "$DATA" --input_key prompt --label_key label --apply_chat_template
    --n_samples_per_prompt 8
    --advantage_estimator group_norm --init_kl_coef 0
    --eps_clip_low_high 0.2 0.28
    --dynamic_filtering --dynamic_filtering_reward_range 0.0 1.0
  )
fi

# Fail early with a clear message when the reward server is not up.
curl -fsS "${GLMV_REWARD_URL:-http://127.0.0.1:8000}/healthz" >/dev/null ||
  { echo "glmv reward server not reachable at ${GLMV_REWARD_URL:-http://127.0.0.1:8000}" >&2; exit 1; }

# Resources (GPUs, vLLM engines, batch sizes) go in "$@", in the same CLI spelling.
exec python3 -m openrlhf.cli.train_ppo_ray "${args[@]}" "$@"
