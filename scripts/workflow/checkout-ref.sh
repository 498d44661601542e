#!/usr/bin/env bash
# Moves a checkout to REF, the base watch's commit (scripts/workflow/base-watch.sh pushed it after
# this run started, so the event's checkout does not have it). The checkout keeps no token
# (persist-credentials: false): TOKEN, the job's read-only token, goes into this one fetch only,
# as actions/checkout passes it. A plain `ref:` on the checkout step would do the same on GitHub,
# but act runs any checkout with a `ref:` as a remote clone, which the offline e2e run cannot do.
set -euo pipefail
[[ "$REF" =~ ^[0-9a-f]{40}$ ]] || { echo "::error::factory: expected a commit sha, got '$REF'"; exit 1; }
auth=$(printf 'x-access-token:%s' "$TOKEN" | base64 | tr -d '\n')
git -c "http.extraheader=AUTHORIZATION: basic $auth" fetch -q --no-tags origin "$REF"
git checkout -q --detach "$REF"
echo "factory: checked out the base watch commit $REF"
