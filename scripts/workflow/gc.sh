#!/usr/bin/env bash
# The gc jobs of the generated factory workflow (.github/workflows/factory.yml): retention of the
# registry (`factory gc`: unreferenced bk-<key> tags and cache refs older than Policy
# retention.keepDays). On the schedule it deletes; on pull requests DRY_RUN=true lists only. The
# report goes to the log and the job summary. Values arrive through the environment: REGISTRY,
# DRY_RUN.
set -euo pipefail
args=(gc)
title='factory gc'
if [[ "${DRY_RUN:-true}" != false ]]; then
  args+=(--dry-run)
  title='factory gc (dry run: nothing deleted)'
fi
node bin/factory.js "${args[@]}" | tee "${RUNNER_TEMP:-/tmp}/gc.txt"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo "### $title"
    echo '```'
    cat "${RUNNER_TEMP:-/tmp}/gc.txt"
    echo '```'
  } >> "$GITHUB_STEP_SUMMARY"
fi
