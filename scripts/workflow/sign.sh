#!/usr/bin/env bash
# Signs pushed images by digest with cosign (v3), each index and everything in it (--recursive:
# the platform manifests and their attestation manifests). Used by the generated workflows: the
# build legs sign the per-platform bk-<key> image they pushed, the merge job the manifest lists
# it wrote (refs listed one a line in a file, `--file FILE`).
#
# Keyless by default: cosign takes the job's GitHub OIDC token (id-token: write) and Fulcio
# certifies the workflow's identity. With FACTORY_COSIGN_KEY (a secret holding an encrypted
# cosign private key, password in FACTORY_COSIGN_PASSWORD) it signs with that key instead, for
# runners with no OIDC (act, GitHub Enterprise Server). FACTORY_COSIGN_TLOG=false skips the
# transparency log (an air-gapped Rekor-less setup; verifiers then pass --insecure-ignore-tlog).
# ALLOW_HTTP=true lets cosign talk to a registry without TLS (Policy registry.insecure).
set -euo pipefail

refs=()
while (($#)); do
  case "$1" in
    --file)
      [[ -r "${2:-}" ]] || { echo "::error::sign.sh: cannot read the list of images ${2:-(none given)}"; exit 1; }
      while IFS= read -r line; do [[ -n "$line" ]] && refs+=("$line"); done < "$2"
      shift 2
      ;;
    *)
      refs+=("$1")
      shift
      ;;
  esac
done
if ((${#refs[@]} == 0)); then
  echo "nothing to sign"
  exit 0
fi
for ref in "${refs[@]}"; do
  if [[ ! "$ref" =~ ^[^@[:space:]]+@sha256:[0-9a-f]{64}$ ]]; then
    echo "::error::sign.sh: '$ref' is not an image reference by digest (REPOSITORY@sha256:...): images are signed by digest only"
    exit 1
  fi
done

args=(sign --yes --recursive)
if [[ -n "${FACTORY_COSIGN_KEY:-}" ]]; then
  export COSIGN_PASSWORD="${FACTORY_COSIGN_PASSWORD:-}"
  args+=(--key env://FACTORY_COSIGN_KEY)
  mode="the key in FACTORY_COSIGN_KEY"
elif [[ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ]]; then
  mode="keyless (GitHub OIDC)"
else
  echo "::error::sign.sh: no way to sign: this job has no OIDC token (permissions: id-token: write) and the secret FACTORY_COSIGN_KEY is empty"
  exit 1
fi
if [[ "${FACTORY_COSIGN_TLOG:-true}" == false ]]; then
  # No Rekor: the default signing config (fetched through TUF) would name one.
  args+=(--tlog-upload=false --use-signing-config=false)
  mode="$mode, no transparency log"
fi
if [[ "${ALLOW_HTTP:-false}" == true ]]; then args+=(--allow-http-registry); fi

for ref in "${refs[@]}"; do
  echo "signing $ref with $mode"
  cosign "${args[@]}" "$ref"
done
