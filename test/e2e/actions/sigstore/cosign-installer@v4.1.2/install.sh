#!/usr/bin/env bash
# See action.yml: the machine's cosign (go install github.com/sigstore/cosign/v3/cmd/cosign@...)
# on the job's PATH, if it is the release the workflow pins.
set -euo pipefail
dir="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
if [[ ! -x "$dir/cosign" ]]; then
  echo "::error::no cosign in $dir: run scripts/test-env.sh (it installs cosign $WANT)"
  exit 1
fi
got="$("$dir/cosign" version 2>/dev/null | sed -n 's/^GitVersion: *//p')"
if [[ "$got" != "$WANT" ]]; then
  echo "::error::the workflow pins cosign $WANT, this machine has $got in $dir"
  exit 1
fi
echo "$dir" >> "$GITHUB_PATH"
echo "cosign $got from $dir"
