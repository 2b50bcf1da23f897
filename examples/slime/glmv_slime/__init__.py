"""glmv's slime plug-ins: import paths for slime's customization hooks (standard library only; see ../README.md).

- `glmv_slime.reward.custom_rm`                     --custom-rm-path (with --group-rm: one /v1/score call per group)
- `glmv_slime.data_source.CurriculumDataSource`     --data-source-path (prompts from `glmv serve curriculum`)
- `glmv_slime.filters.keep_groups_with_reward_std`  --dynamic-sampling-filter-path
- `glmv_slime.observe.observe_all_samples`          --rollout-all-samples-process-path (pass rates to /v1/observe)
- `glmv_slime.generate.force_answer_generate`       --custom-generate-function-path (force-answer on SGLang)
"""
