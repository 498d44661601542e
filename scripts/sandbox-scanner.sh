#!/usr/bin/env bash
# Builds the BuildKit SBOM scanner image for the sandbox and pushes it to the sandbox registry,
# since nothing can be pulled from Docker Hub there. Prints the image reference on stdout
# (pass it to the action as `sbom-scanner`).
#
#   scripts/sandbox-scanner.sh            build (if needed) and push; print the reference
#   scripts/sandbox-scanner.sh --ref      print the reference only
#
# The scanner is github.com/docker/buildkit-syft-scanner, built from its Go module at a pinned
# version. Where the Go module proxy refuses that module (it answers 403 for it on some
# mirrors), the script builds the same scanner protocol from the syft library itself
# (github.com/anchore/syft, pinned): BuildKit runs the image with BUILDKIT_SCAN_SOURCE (the
# image's root filesystem), optional BUILDKIT_SCAN_SOURCE_EXTRAS (one directory per extra stage)
# and BUILDKIT_SCAN_DESTINATION, and reads one in-toto statement with an SPDX predicate per
# scanned directory from the destination. Which one was built is printed on stderr and kept in
# the image label dev.factory.scanner.source.
#
# Needs: the sandbox up (scripts/sandbox.sh up), Go >= 1.24. Idempotent: the binary is rebuilt only
# when its pinned inputs change, the image only when the binary or the Dockerfile changes.
set -euo pipefail

SCANNER_MODULE=github.com/docker/buildkit-syft-scanner
SCANNER_VERSION=v1.9.0
SYFT_MODULE=github.com/anchore/syft
SYFT_VERSION=v1.57.0

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${FACTORY_SANDBOX_CACHE:-/var/cache/factory-sandbox}
WORK=$CACHE/scanner
log() { printf '%s sandbox-scanner: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'sandbox-scanner: error: %s\n' "$*" >&2; exit 1; }

env_out=$("$ROOT/scripts/sandbox.sh" env) || die "the sandbox is not up: run scripts/sandbox.sh up first"
REGISTRY=$(sed -n 's/^REGISTRY=//p' <<<"$env_out")
BUILDER=$(sed -n 's/^BUILDX_BUILDER=//p' <<<"$env_out")
[[ -n $REGISTRY && -n $BUILDER ]] || die "scripts/sandbox.sh env printed no REGISTRY/BUILDX_BUILDER"
REF=$REGISTRY/factory/buildkit-syft-scanner:factory
if [[ ${1:-} == --ref ]]; then echo "$REF"; exit 0; fi

command -v go >/dev/null || die "'go' not found on PATH; install Go >= 1.24"
BUILDX=$(command -v buildx || true)
[[ -n $BUILDX ]] || BUILDX=${FACTORY_SANDBOX_BIN:-/usr/local/lib/factory-sandbox/bin}/buildx
[[ -x $BUILDX ]] || die "buildx not found (PATH or \$FACTORY_SANDBOX_BIN); run scripts/sandbox.sh up"

mkdir -p "$WORK/bin" "$WORK/image"
bin=$WORK/image/syft-scanner
stamp=$WORK/bin/.stamp

upstream_ok() {
  GOFLAGS=-mod=mod go mod download -json "$SCANNER_MODULE@$SCANNER_VERSION" >/dev/null 2>&1
}

if upstream_ok; then
  source_id="$SCANNER_MODULE@$SCANNER_VERSION"
else
  log "the Go module proxy refuses $SCANNER_MODULE@$SCANNER_VERSION; building the scanner protocol from $SYFT_MODULE@$SYFT_VERSION"
  source_id="$SYFT_MODULE@$SYFT_VERSION (factory scanner main, sqlite)"
fi

if [[ -x $bin && -f $stamp && $(cat "$stamp") == "$source_id" ]]; then
  log "scanner binary up to date ($source_id)"
else
  mod=$WORK/mod
  rm -rf "$mod" && mkdir -p "$mod"
  cd "$mod"
  if [[ $source_id == "$SCANNER_MODULE@$SCANNER_VERSION" ]]; then
    go mod init factory-sandbox/scanner >/dev/null 2>&1
    go mod edit -require="$SCANNER_MODULE@$SCANNER_VERSION"
    printf '//go:build tools\npackage tools\nimport _ "%s/cmd/syft-scanner"\n' "$SCANNER_MODULE" > tools.go
    GOFLAGS=-mod=mod go mod tidy >/dev/null
    pkg=$SCANNER_MODULE/cmd/syft-scanner
  else
    go mod init factory-sandbox/syft-scanner >/dev/null 2>&1
    go mod edit -require="$SYFT_MODULE@$SYFT_VERSION"
    cat > main.go <<'GO'
// A BuildKit SBOM scanner: scans BUILDKIT_SCAN_SOURCE (and each directory of
// BUILDKIT_SCAN_SOURCE_EXTRAS) with syft's image catalogers and writes one in-toto statement
// with an SPDX JSON predicate per directory into BUILDKIT_SCAN_DESTINATION.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/source/directorysource"

	// The RPM cataloger needs a database/sql driver; syft's own main registers this one.
	_ "modernc.org/sqlite"
)

type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []any           `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

func scan(ctx context.Context, dir, dest string) error {
	// Base = the directory: absolute symlinks resolve inside the scanned root filesystem.
	src, err := directorysource.New(directorysource.Config{Path: dir, Base: dir})
	if err != nil {
		return err
	}
	cfg := syft.DefaultCreateSBOMConfig().
		WithTool("buildkit-syft-scanner (factory)", "").
		WithCatalogerSelection(cataloging.NewSelectionRequest().WithDefaults(pkgcataloging.ImageTag))
	s, err := syft.CreateSBOM(ctx, src, cfg)
	if err != nil {
		return err
	}
	enc, err := spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := enc.Encode(&buf, *s); err != nil {
		return err
	}
	out, err := json.Marshal(statement{
		Type:          "https://in-toto.io/Statement/v0.1",
		PredicateType: "https://spdx.dev/Document",
		Subject:       []any{},
		Predicate:     buf.Bytes(),
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dest, filepath.Base(dir)+".spdx.json"), out, 0o644)
}

func main() {
	dest, src := os.Getenv("BUILDKIT_SCAN_DESTINATION"), os.Getenv("BUILDKIT_SCAN_SOURCE")
	if dest == "" || src == "" {
		fmt.Fprintln(os.Stderr, "syft-scanner: BUILDKIT_SCAN_SOURCE and BUILDKIT_SCAN_DESTINATION must be set (BuildKit sets them)")
		os.Exit(2)
	}
	dirs := []string{src}
	if extras := os.Getenv("BUILDKIT_SCAN_SOURCE_EXTRAS"); extras != "" {
		entries, err := os.ReadDir(extras)
		if err != nil {
			fmt.Fprintln(os.Stderr, "syft-scanner:", err)
			os.Exit(1)
		}
		for _, e := range entries {
			dirs = append(dirs, filepath.Join(extras, e.Name()))
		}
	}
	for _, d := range dirs {
		if err := scan(context.Background(), d, dest); err != nil {
			fmt.Fprintf(os.Stderr, "syft-scanner: %s: %v\n", d, err)
			os.Exit(1)
		}
	}
}
GO
    GOFLAGS=-mod=mod go mod tidy >/dev/null
    pkg=.
  fi
  log "building $source_id (first build compiles syft and its dependencies: several minutes)"
  start=$SECONDS
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" "$pkg"
  mv "$bin.tmp" "$bin"
  echo "$source_id" > "$stamp"
  log "built scanner in $((SECONDS - start))s"
fi

cat > "$WORK/image/Dockerfile" <<EOF2
FROM scratch
COPY syft-scanner /bin/syft-scanner
LABEL dev.factory.scanner.source="$source_id"
ENTRYPOINT ["/bin/syft-scanner"]
EOF2
# The scanner runs on the build platform; BuildKit runs it for every target platform's SBOM.
"$BUILDX" build --builder "$BUILDER" --platform linux/amd64 --provenance=false --sbom=false \
  --progress=quiet --tag "$REF" --push "$WORK/image" >&2
log "pushed $REF ($source_id)"
echo "$REF"
