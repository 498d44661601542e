#!/usr/bin/env bash
# Build Go commands of a pinned module version into a bin directory.
#
# usage: go-tool.sh BIN_DIR MODULE VERSION VERSION_PKG CMD_PATH...
#   e.g. go-tool.sh /usr/local/lib/factory-sandbox/bin github.com/moby/buildkit v0.34.2 \
#          github.com/moby/buildkit/version cmd/buildkitd cmd/buildctl
#
# `go install module/cmd@version` refuses modules whose go.mod has replace or exclude
# directives (buildkit has excludes), so every tool is built the same way: a throwaway
# wrapper module that requires MODULE@VERSION and copies its exclude block, which makes
# Go's minimal version selection pick exactly the versions the upstream module was
# tested with. The wrapper lives in a cache dir so Go's module and build caches are
# reused on the next run; a stamp file per binary skips the build when the version matches.
set -euo pipefail

bin_dir=$1 module=$2 version=$3 version_pkg=$4
shift 4
cache_root=${FACTORY_SANDBOX_CACHE:-/var/cache/factory-sandbox}

stamp_ok() {
  local name=$1
  [[ -x "$bin_dir/$name" && -f "$bin_dir/.$name.version" ]] &&
    [[ "$(cat "$bin_dir/.$name.version")" == "$module@$version" ]]
}

todo=()
for cmd in "$@"; do
  stamp_ok "$(basename "$cmd")" || todo+=("$cmd")
done
if ((${#todo[@]} == 0)); then
  echo "go-tool: $module@$version already built (${*##*/})"
  exit 0
fi

command -v go >/dev/null || { echo "go-tool: 'go' not found on PATH; install Go >= 1.24 first" >&2; exit 1; }

work="$cache_root/go/$(echo "$module" | tr '/' '_')@$version"
mkdir -p "$work" "$bin_dir"
cd "$work"

want="$module@$version $*"
if [[ ! -f .prepared || "$(cat .prepared)" != "$want" ]]; then
  rm -f go.mod go.sum .prepared
  go mod init "factory-sandbox/$(basename "$module")" >/dev/null 2>&1
  go mod edit -require="$module@$version"
  upstream_mod=$(GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f "$upstream_mod" ]] || { echo "go-tool: could not download $module@$version from the Go module proxy" >&2; exit 1; }
  # Carry over the upstream go directive and exclude directives (they only apply in the main module).
  go_line=$(grep -m1 '^go ' "$upstream_mod" || true)
  [[ -n "$go_line" ]] && go mod edit -go="${go_line#go }"
  awk '/^exclude[[:space:]]*\(/{inb=1;next} inb&&/^\)/{inb=0;next} inb{sub(/\/\/.*/,""); if ($1!="") print $1"@"$2; next} /^exclude[[:space:]]+[^(]/{print $2"@"$3}' "$upstream_mod" |
    while read -r ex; do go mod edit -exclude="$ex"; done
  # `go get` of the command packages records exactly the modules they import (a
  # `go mod tidy` would also fetch every dependency's test-only modules).
  pkgs=()
  for cmd in "$@"; do pkgs+=("$module/$cmd@$version"); done
  GOFLAGS=-mod=mod go get "${pkgs[@]}" >/dev/null
  echo "$want" > .prepared
fi

ldflags="-s -w -X $version_pkg.Version=$version -X $version_pkg.Package=$module"
for cmd in "${todo[@]}"; do
  name=$(basename "$cmd")
  start=$(date +%s)
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin_dir/$name.tmp" "$module/$cmd"
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
  echo "$module@$version" > "$bin_dir/.$name.version"
  echo "go-tool: built $name from $module@$version in $(( $(date +%s) - start ))s"
done
