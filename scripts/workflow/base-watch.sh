#!/usr/bin/env bash
# The base-watch job of the generated factory workflow (.github/workflows/factory.yml, schedule
# only): `factory bases watch --write` resolves every Base's tag through the registry API; when a
# digest moved, the new pins (stamped with when the watch first saw them) are regenerated into the
# bake file, committed to WATCH_BRANCH and pushed, and in mode pull-request a pull request is
# opened (or left open) against DEFAULT_BRANCH. The plan job then builds exactly the targets on the
# moved bases from that commit. Values arrive through the environment: WATCH_MODE, WATCH_BRANCH,
# DEFAULT_BRANCH, REPOSITORY, GH_TOKEN.
set -euo pipefail
out="${GITHUB_OUTPUT:-/dev/null}"
base=$(git rev-parse HEAD)
tmp="${RUNNER_TEMP:-/tmp}"
args=(--json bases watch --write)
# An earlier run's branch: a digest it already pinned keeps the time it was first seen.
if git fetch -q origin "refs/heads/$WATCH_BRANCH" 2>/dev/null && git show FETCH_HEAD:factory.lock.json > "$tmp/previous.lock.json" 2>/dev/null; then
  args+=(--previous "$tmp/previous.lock.json")
fi
rm -f "$tmp/base-watch.msg"
# --message: the commit and pull request text, written only when a pin moved.
node bin/factory.js "${args[@]}" --message "$tmp/base-watch.msg" > "$tmp/base-watch.json"
echo "base=$base" >> "$out"
if [[ ! -s "$tmp/base-watch.msg" ]]; then
  echo "factory: every base pin is current"
  echo "moved=false" >> "$out"
  exit 0
fi
node bin/factory.js generate
cat "$tmp/base-watch.msg"
git config user.name 'github-actions[bot]'
git config user.email '41898282+github-actions[bot]@users.noreply.github.com'
git checkout -q -B "$WATCH_BRANCH"
git add -A
git commit -q -F "$tmp/base-watch.msg"
git push -q --force origin "HEAD:refs/heads/$WATCH_BRANCH"
{
  echo "moved=true"
  echo "sha=$(git rev-parse HEAD)"
} >> "$out"
if [[ "$WATCH_MODE" == pull-request ]]; then
  if [[ -n "$(gh pr list --repo "$REPOSITORY" --head "$WATCH_BRANCH" --state open --json number --jq '.[].number')" ]]; then
    echo "factory: the pull request of $WATCH_BRANCH is open; the push updated it"
  else
    gh pr create --repo "$REPOSITORY" --base "$DEFAULT_BRANCH" --head "$WATCH_BRANCH" \
      --title "$(head -n 1 "$tmp/base-watch.msg")" --body-file "$tmp/base-watch.msg"
  fi
fi
