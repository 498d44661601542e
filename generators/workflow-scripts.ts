// Shell scripts embedded in the generated workflow. They never contain `${{ }}`: every value
// that comes from the event (refs, inputs, PR data) reaches them through `env:`, so nothing a
// pull request author controls can be spliced into a script. actionlint runs shellcheck on them.

/** Pool-independent: decides what to plan from the event, then runs `factory plan`. */
export const PLAN_SCRIPT = `set -euo pipefail
# The plan's build-key lookups and every later job use this registry (lower case: OCI names).
export REGISTRY="\${FACTORY_REGISTRY:-ghcr.io/\${OWNER,,}}"
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
    # Base images get security fixes under the same tag: rebuild everything, ignoring keys.
    args+=(--all --force)
    ;;
  *)
    echo "::error::factory: unsupported event $EVENT_NAME"
    exit 1
    ;;
esac
# The package script runs the CLI from source (tsx); it does not need a build of bin/.
npm run --silent factory -- "\${args[@]}" > plan.json
{
  echo "registry=$REGISTRY"
  echo "registry-host=\${REGISTRY%%/*}"
  echo "push=$push"
} >> "$GITHUB_OUTPUT"
`;

/**
 * Joins per-arch images into manifest lists. A list is only published when every platform of
 * the variant has an image: built in this run (digest from its result file) or already in the
 * registry under its build key. Otherwise the list is refused and the job fails.
 */
export const MERGE_SCRIPT = `set -euo pipefail
failed=0
count=$(jq '.merges | length' plan.json)
for ((i = 0; i < count; i++)); do
  merge=$(jq -c --argjson i "$i" '.merges[$i]' plan.json)
  image=$(jq -r '.image' <<<"$merge")
  sources=()
  missing=()
  while IFS=$'\\t' read -r target platform status key_tag; do
    case "$status" in
      build)
        file="results/$target.json"
        digest=
        if [[ -f "$file" ]] && [[ "$(jq -r '.result' "$file")" == passed ]]; then
          digest=$(jq -r '.digest' "$file")
        fi
        if [[ "$digest" =~ ^sha256:[a-f0-9]{64}$ ]]; then
          sources+=("$REGISTRY/$image@$digest")
        else
          missing+=("$platform (target $target did not produce an image)")
        fi
        ;;
      existing)
        sources+=("$REGISTRY/$image:$key_tag")
        ;;
      *)
        missing+=("$platform (target $target is neither built in this run nor in the registry)")
        ;;
    esac
  done < <(jq -r '.sources[] | [.target, .platform, .status, .keyTag] | @tsv' <<<"$merge")
  mapfile -t tags < <(jq -r '.tags[]' <<<"$merge")
  if ((\${#missing[@]} > 0)); then
    echo "::error title=factory merge refused::$image:\${tags[0]} is missing \${missing[*]}; not publishing a partial manifest list"
    failed=1
    continue
  fi
  tag_args=()
  for tag in "\${tags[@]}"; do tag_args+=(--tag "$REGISTRY/$image:$tag"); done
  docker buildx imagetools create "\${tag_args[@]}" "\${sources[@]}"
  echo "published $image: \${tags[*]} from \${#sources[@]} platform image(s)" >> "$GITHUB_STEP_SUMMARY"
done
exit "$failed"
`;

/**
 * Markdown summary of the run from plan.json and the legs' result files. Every value is put
 * in a code span with backticks and pipes removed: file names come from the pull request.
 */
export const SUMMARY_SCRIPT = `set -euo pipefail
tick=$'\\x60'
code() { local v="\${1//$tick/}"; v="\${v//|/}"; printf '%s%s%s' "$tick" "$v" "$tick"; }
{
  echo "## Container factory"
  echo
  jq -r '"\\(.summary.affected) affected target(s) of \\(.summary.targets): \\(.summary.build) to build, \\(.summary.skipped) already built (build key in the registry)."' plan.json
  echo
  if [[ "$(jq '.affected | length' plan.json)" != 0 ]]; then
    echo "| target | pool | plan | result | why |"
    echo "| --- | --- | --- | --- | --- |"
    while IFS=$'\\t' read -r target pool status why; do
      result=-
      if [[ -f "results/$target.json" ]]; then result=$(jq -r '.result' "results/$target.json");
      elif [[ "$status" == build ]]; then result="not run"; fi
      echo "| $(code "$target") | $(code "$pool") | $status | $result | $(code "$why") |"
    done < <(jq -r '.affected[] | [.target, .pool, .status, .reasons[0].summary] | @tsv' plan.json)
  fi
  removed=$(jq -r '.removed | length' plan.json)
  if [[ "$removed" != 0 ]]; then
    echo
    echo "Removed targets: $removed"
  fi
} > summary.md
cat summary.md >> "$GITHUB_STEP_SUMMARY"
`;

/** Posts (or updates) the summary as a pull request comment. */
export const COMMENT_SCRIPT = `set -euo pipefail
gh pr comment "$PR_NUMBER" --repo "$REPOSITORY" --body-file summary.md --edit-last 2>/dev/null \\
  || gh pr comment "$PR_NUMBER" --repo "$REPOSITORY" --body-file summary.md
`;
