#!/usr/bin/env bash
# Everything the test suite runs against, installed and started if missing (idempotent; a
# second run takes a second or two): the workflow linters (actionlint from the Go module
# proxy, shellcheck from Debian, zizmor from PyPI), act (Go module proxy) for running the
# generated workflow end to end, the dashboard's browser (Debian's chromium,
# driven by playwright-core) and API fuzzer (schemathesis from PyPI), and the build sandbox (BuildKit, buildx,
# a local registry, QEMU for arm64 and the base images: scripts/sandbox.sh). Needs root on
# Debian 12 for what is not installed yet.
set -euo pipefail
cd "$(dirname "$0")/.."
GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
export PATH="$GOBIN_DIR:$PATH"

missing=()
for p in git shellcheck chromium; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "test-env: install ${missing[*]} (apt-get install ${missing[*]}) or run as root" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! { command -v actionlint >/dev/null 2>&1 && actionlint -version | grep '^v\?1\.7\.12' >/dev/null; }; then
  echo "test-env: installing actionlint 1.7.12 (go install)"
  go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi

if ! { command -v cosign >/dev/null 2>&1 && cosign version 2>/dev/null | grep -q 'v3\.1\.3'; }; then
  echo "test-env: installing cosign v3.1.3 (go install; a few minutes the first time)"
  go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3
fi

# act runs the generated factory workflow end to end in the e2e suite (test/e2e/act.itg.test.ts).
if ! { command -v act >/dev/null 2>&1 && act --version | grep ' 0\.2\.89$' >/dev/null; }; then
  echo "test-env: installing act 0.2.89 (go install)"
  go install github.com/nektos/act@v0.2.89
fi

if ! { command -v zizmor >/dev/null 2>&1 && zizmor --version | grep ' 1\.32\.0$' >/dev/null; }; then
  echo "test-env: installing zizmor 1.32.0 (pip)"
  python3 -m pip install --quiet 'zizmor==1.32.0'
fi

if ! { command -v schemathesis >/dev/null 2>&1 && schemathesis --version | grep ' 4\.32\.5$' >/dev/null; }; then
  echo "test-env: installing schemathesis 4.32.5 (pip)"
  python3 -m pip install --quiet 'schemathesis==4.32.5'
fi

bash scripts/sandbox.sh up
