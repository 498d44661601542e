#!/usr/bin/env bash
# The plan step of the generated factory workflow (.github/workflows/factory.yml): decides what
# to plan from the event, runs the compiled `factory plan` (bin/factory.js, no npm install), and
# writes plan.json and the step outputs. Every event value arrives through the environment
# (EVENT_NAME, PR_BASE_SHA, PUSH_BEFORE, INPUT_*, WATCH_*), never spliced into the script.
# WATCH_* are read on the schedule only: off schedule the watch job is skipped and its outputs empty.
set -euo pipefail
# The plan's build-key lookups and every later job use this registry (lower case: OCI names).
export REGISTRY="${FACTORY_REGISTRY:-ghcr.io/${OWNER,,}}"
args=(plan --json --check-registry --github-output "$GITHUB_OUTPUT")
push=false
case "$EVENT_NAME" in
  pull_request)
    args+=(--base "$PR_BASE_SHA" --head HEAD)
    ;;
  push)
    push=true
    # A new branch (before = 000...) or a force push leaves no usable base: plan everything;
    # build keys still skip what is already in the registry.
    if [[ "$PUSH_BEFORE" =~ ^0+$ ]] || ! git cat-file -e "$PUSH_BEFORE^{commit}" 2>/dev/null; then
      args+=(--all)
    else
      args+=(--base "$PUSH_BEFORE" --head HEAD)
    fi
    ;;
  workflow_dispatch)
    push="$INPUT_PUSH"
    args+=(--all)
    if [[ -n "$INPUT_PRODUCT" ]]; then args+=(--product "$INPUT_PRODUCT"); fi
    if [[ -n "$INPUT_PLATFORMS" ]]; then args+=(--platforms "$INPUT_PLATFORMS"); fi
    if [[ -n "$INPUT_PROMOTE" ]]; then args+=(--promote "$INPUT_PROMOTE"); fi
    if [[ "$INPUT_FORCE" == true ]]; then args+=(--force); fi
    ;;
  schedule)
    push=true
    # The base watch (scripts/workflow/base-watch.sh) ran first; HEAD is its commit with the
    # moved pins, WATCH_BASE the commit it started from. The diff is the pins: change detection
    # plans exactly the targets on the moved bases. Nothing moved: HEAD against itself, no target.
    if [[ "${WATCH_MOVED:-}" == true ]]; then
      args+=(--base "$WATCH_BASE" --head HEAD)
      # The commit the legs build (scripts/workflow/checkout-ref.sh): only set when there is one.
      echo "ref=$WATCH_SHA" >> "$GITHUB_OUTPUT"
    else
      args+=(--base HEAD --head HEAD)
    fi
    ;;
  *)
    echo "::error::factory: unsupported event $EVENT_NAME"
    exit 1
    ;;
esac
# A platform subset that would publish incomplete manifest lists is refused here, not at merge.
if [[ "$push" == true ]]; then args+=(--push); fi
node bin/factory.js "${args[@]}" > plan.json
{
  echo "registry=$REGISTRY"
  echo "registry-host=${REGISTRY%%/*}"
  echo "push=$push"
} >> "$GITHUB_OUTPUT"
