#!/usr/bin/env bash
# The pages job of the generated factory workflow (.github/workflows/factory.yml): deploys the
# site artifact (`github-pages`, one artifact.tar, uploaded by actions/upload-artifact) through
# GitHub's Pages deployment API, as actions/deploy-pages does. It is a script rather than that
# action because the factory pins only node24 releases of third-party actions, and deploy-pages /
# upload-pages-artifact have none we can vouch for. Needs `pages: write` and `id-token: write`.
# Values arrive through the environment: GITHUB_TOKEN, ARTIFACT_ID, and the runner's
# GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN.
# Optional: PAGES_TIMEOUT (seconds, default 600), PAGES_POLL (seconds between checks, default 5).
set -euo pipefail
: "${GITHUB_TOKEN:?the job token, with pages: write}" "${ARTIFACT_ID:?the id of the uploaded github-pages artifact}"
: "${ACTIONS_ID_TOKEN_REQUEST_URL:?no OIDC token service: the job needs permissions id-token: write}"
api="${GITHUB_API_URL:-https://api.github.com}/repos/${GITHUB_REPOSITORY:?}/pages/deployments"
timeout="${PAGES_TIMEOUT:-600}"
poll="${PAGES_POLL:-5}"

github() { # METHOD URL [BODY]: the API's JSON on stdout; fails with the API's message
  local out code data=()
  out="$(mktemp)"
  [[ $# -ge 3 ]] && data=(--data "$3")
  code="$(curl -sS -o "$out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $GITHUB_TOKEN" \
    -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' "${data[@]}" "$2")"
  if [[ "$code" != 2* ]]; then
    echo "::error::GitHub Pages API $1 $2 answered HTTP $code: $(jq -r '.message? // empty' "$out" 2>/dev/null | tr -d '\r' | head -c 500)" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

oidc="$(curl -sS -f -H "Authorization: Bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN:?}" "$ACTIONS_ID_TOKEN_REQUEST_URL" | jq -r '.value')"
body="$(jq -nc --argjson id "$ARTIFACT_ID" --arg v "${GITHUB_SHA:?}" --arg t "$oidc" '{artifact_id: $id, pages_build_version: $v, oidc_token: $t}')"
created="$(github POST "$api" "$body")"
page_url="$(jq -r '.page_url // empty' <<<"$created")"
status_url="$(jq -r '.status_url // empty' <<<"$created")"
: "${status_url:=$api/$GITHUB_SHA}"

deadline=$((SECONDS + timeout))
while :; do
  status="$(github GET "$status_url" | jq -r '.status // "unknown"')"
  case "$status" in
    succeed) break ;;
    deployment_failed | deployment_content_failed | deployment_lost | deployment_attempt_error | syncing_files_failed)
      echo "::error::GitHub Pages deployment ended with status $status" >&2
      exit 1
      ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "::error::GitHub Pages deployment still '$status' after ${timeout}s" >&2
    exit 1
  fi
  sleep "$poll"
done
echo "deployed to ${page_url:-GitHub Pages}"
[[ -n "${GITHUB_OUTPUT:-}" ]] && echo "page_url=$page_url" >> "$GITHUB_OUTPUT"
exit 0
