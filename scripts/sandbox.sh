#!/usr/bin/env bash
# The factory's local build environment: a plain-HTTP registry on 127.0.0.1, a BuildKit
# daemon on a unix socket (runc worker, QEMU for linux/arm64), a buildx `remote` builder
# named `factory`, and locally built base images (debootstrap Debian bookworm for
# amd64+arm64, static busybox) in that registry. Nothing is pulled from Docker Hub.
#
#   scripts/sandbox.sh up            install what is missing, start everything, build base images
#   scripts/sandbox.sh down [--purge] stop what `up` started (pid files); --purge also drops state
#   scripts/sandbox.sh status        one line per piece; exit 1 when something is down
#   scripts/sandbox.sh env           KEY=VALUE lines: REGISTRY, BUILDKIT_HOST, BUILDX_BUILDER, BASE_*,
#                                    SBOM_SCANNER (generator image for `attest=type=sbom,generator=...`)
#   scripts/sandbox.sh verify        apt-get install + HTTPS fetch in RUN steps on amd64 and arm64
#   scripts/sandbox.sh builder-up NAME | builder-down NAME
#                                    an extra buildkitd with an empty state (own socket, own buildx
#                                    remote builder `factory-NAME`), for "fresh builder" measurements
#   scripts/sandbox.sh cdi-builder-up NAME [--no-spec] | builder-down NAME
#                                    the same with CDI enabled ([cdi] specDirs = [<state>/cdi/NAME])
#                                    and our test device factory.test/gpu=0 (sandbox/factory-test-cdi.yaml:
#                                    FACTORY_CDI_DEVICE in the environment, /dev/nvidiactl as a copy of
#                                    /dev/null); --no-spec leaves the spec directory empty
#
# Runs as root on Debian 12. Idempotent: every step checks before it acts.
# Environment: FACTORY_SANDBOX_DIR (state, default <repo>/.sandbox),
#   FACTORY_SANDBOX_BIN (default /usr/local/lib/factory-sandbox/bin),
#   FACTORY_SANDBOX_CACHE (default /var/cache/factory-sandbox; Go wrapper modules, rootfs tarballs),
#   FACTORY_SANDBOX_BUILDER (default factory; the buildx builder's name),
#   SOURCE_DATE_EPOCH (base image timestamps, default 1700000000).
set -euo pipefail

BUILDKIT_VERSION=v0.34.2
BUILDX_VERSION=v0.38.2
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
APT_PACKAGES=(runc docker-registry qemu-user-static binfmt-support debootstrap busybox-static)
# Builder names are global to the user's buildx config: a second checkout's sandbox takes its own.
BUILDER=${FACTORY_SANDBOX_BUILDER:-factory}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
STATE=${FACTORY_SANDBOX_DIR:-$ROOT/.sandbox}
BIN=${FACTORY_SANDBOX_BIN:-/usr/local/lib/factory-sandbox/bin}
CACHE=${FACTORY_SANDBOX_CACHE:-/var/cache/factory-sandbox}
export FACTORY_SANDBOX_CACHE=$CACHE
SDE=${SOURCE_DATE_EPOCH:-1700000000}
LOGS=$STATE/logs
PIDS=$STATE/pids
STATE_ENV=$STATE/state.env
SOCK=$STATE/buildkitd.sock

log() { printf '%s sandbox: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'sandbox: error: %s\n' "$*" >&2; exit 1; }
timed() { # timed LABEL cmd... : run and report the duration
  local label=$1 start=$SECONDS
  shift
  "$@"
  log "$label took $((SECONDS - start))s"
}

require_root() { [[ $(id -u) == 0 ]] || die "must run as root (it installs packages, mounts binfmt_misc and runs buildkitd)"; }

state_get() { if [[ -f $STATE_ENV ]]; then sed -n "s/^$1=//p" "$STATE_ENV" | tail -1; fi; }
state_set() {
  mkdir -p "$STATE"
  local tmp=$STATE_ENV.tmp
  { if [[ -f $STATE_ENV ]]; then grep -v "^$1=" "$STATE_ENV" || true; fi; echo "$1=$2"; } | sort > "$tmp"
  mv "$tmp" "$STATE_ENV"
}

# A pid file names a process we started; it only counts while that pid still runs our binary
# (pids get reused), so `down` can never signal an unrelated process.
pid_alive() {
  local pidfile=$PIDS/$1.pid exe=$2 pid
  [[ -f $pidfile ]] || return 1
  pid=$(cat "$pidfile")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -F -- "$exe" >/dev/null
}

stop_pid() {
  local name=$1 exe=$2 pid i
  if ! pid_alive "$name" "$exe"; then rm -f "$PIDS/$name.pid"; return 0; fi
  pid=$(cat "$PIDS/$name.pid")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 10s; sending SIGKILL to pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
}

start_daemon() { # start_daemon NAME LOGFILE cmd...
  local name=$1 logfile=$2
  shift 2
  mkdir -p "$PIDS" "$(dirname "$logfile")"
  # setsid: the daemon must outlive this script and the terminal or test runner that called it.
  # 9>&-: the daemon must not inherit the lock fd of `up`, or the lock is held for its lifetime.
  setsid "$@" >>"$logfile" 2>&1 < /dev/null 9>&- &
  echo $! > "$PIDS/$name.pid"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

port_free() {
  node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close())' "$1"
}

# ---------------------------------------------------------------- packages and binaries

install_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "apt packages present (${APT_PACKAGES[*]})"; return; fi
  log "installing ${missing[*]} from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_binaries() {
  timed "buildkit $BUILDKIT_VERSION binaries" "$HERE/sandbox/go-tool.sh" "$BIN" github.com/moby/buildkit "$BUILDKIT_VERSION" \
    github.com/moby/buildkit/version cmd/buildkitd cmd/buildctl
  timed "buildx $BUILDX_VERSION binary" "$HERE/sandbox/go-tool.sh" "$BIN" github.com/docker/buildx "$BUILDX_VERSION" \
    github.com/docker/buildx/version cmd/buildx
  # buildx as a docker CLI plugin (`docker buildx ...`) and standalone (`buildx ...`).
  local plugdir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
  mkdir -p "$plugdir"
  ln -sfn "$BIN/buildx" "$plugdir/docker-buildx"
  local tool
  for tool in buildx buildctl buildkitd; do
    local link=/usr/local/bin/$tool
    # Never replace someone else's binary; only our own symlink.
    if [[ ! -e $link || ( -L $link && $(readlink "$link") == "$BIN/$tool" ) ]]; then
      ln -sfn "$BIN/$tool" "$link"
    fi
  done
}

# ---------------------------------------------------------------- binfmt / QEMU

setup_binfmt() {
  if [[ $(uname -m) == aarch64 ]]; then state_set ARM64 native; log "arm64 is native here"; return; fi
  if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
    if ! mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>"$LOGS/binfmt.log"; then
      state_set ARM64 unavailable
      log "WARNING: the kernel does not let us mount binfmt_misc ($(cat "$LOGS/binfmt.log")): linux/arm64 builds are NOT available"
      return
    fi
  fi
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [[ ! -e $entry ]] || ! grep -q '^enabled' "$entry"; then
    update-binfmts --enable qemu-aarch64 >"$LOGS/binfmt.log" 2>&1 || true
  fi
  # The F (fix-binary) flag makes the kernel open the interpreter now, so it also works
  # inside the containers and chroots BuildKit runs, where the host path does not exist.
  if [[ -e $entry ]] && grep -q '^enabled' "$entry" && grep -q '^flags:.*F' "$entry"; then
    state_set ARM64 qemu
    log "QEMU registered for linux/arm64 ($(sed -n 's/^interpreter //p' "$entry"), flags $(sed -n 's/^flags: //p' "$entry"))"
  else
    state_set ARM64 unavailable
    log "WARNING: could not register QEMU for linux/arm64 through binfmt_misc (see $LOGS/binfmt.log); the kernel or container does not allow it: linux/arm64 builds are NOT available"
  fi
}

# ---------------------------------------------------------------- registry

registry_up() {
  local port addr
  port=$(state_get REGISTRY_PORT)
  if pid_alive registry /usr/bin/docker-registry && [[ -n $port ]] && curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/"; then
    log "registry already running on 127.0.0.1:$port"
    return
  fi
  stop_pid registry /usr/bin/docker-registry
  # Keep the previous port when it is still free: image names and cache refs stay valid.
  if [[ -z $port ]] || ! port_free "$port"; then port=$(free_port); fi
  addr=127.0.0.1:$port
  mkdir -p "$STATE/registry"
  cat > "$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
  redirect:
    disable: true
http:
  addr: $addr
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  # Distribution's bundled "storage" health check and bugsnag are off in this config, so no
  # outbound traffic; the registry listens on loopback only.
  start_daemon registry "$LOGS/registry.log" /usr/bin/docker-registry serve "$STATE/registry.yml"
  local i
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "http://$addr/v2/" 2>/dev/null && break
    pid_alive registry /usr/bin/docker-registry || die "registry exited at start; see $LOGS/registry.log"
    sleep 0.1
  done
  curl -fsS -o /dev/null "http://$addr/v2/" || die "registry did not answer on $addr; see $LOGS/registry.log"
  state_set REGISTRY_PORT "$port"
  state_set REGISTRY "$addr"
  log "registry listening on $addr (data in $STATE/registry)"
}

# ---------------------------------------------------------------- buildkitd

write_buildkitd_config() { # write_buildkitd_config ROOTDIR SOCKET CONFIGFILE [CDI_SPEC_DIR]
  local registry platforms='"linux/amd64"' cdi=${4:-}
  registry=$(state_get REGISTRY)
  [[ $(state_get ARM64) != unavailable ]] && platforms='"linux/amd64", "linux/arm64"'
  cat > "$3" <<EOF
root = "$1"

[grpc]
  address = ["unix://$2"]

[worker.oci]
  enabled = true
  binary = "/usr/sbin/runc"
  snapshotter = "overlayfs"
  platforms = [$platforms]
  gc = true
  # Enough room for the sample factory for both platforms without evicting the base layers.
  reservedSpace = "10%"
  maxUsedSpace = "40GB"

[worker.containerd]
  enabled = false

[registry."$registry"]
  http = true
  insecure = true
EOF
  # BuildKit v0.34 reads `disabled` (CDI is on by default, reading /etc/cdi and /var/run/cdi);
  # the builders of CDI tests name their own spec directory.
  if [[ -n $cdi ]]; then
    printf '\n[cdi]\n  disabled = false\n  specDirs = ["%s"]\n' "$cdi" >> "$3"
  fi
}

buildkitd_wait() { # buildkitd_wait NAME SOCKET
  local i
  for ((i = 0; i < 300; i++)); do
    "$BIN/buildctl" --addr "unix://$2" debug workers >/dev/null 2>&1 && return 0
    pid_alive "$1" "$BIN/buildkitd" || die "$1 exited at start; see $LOGS/$1.log"
    sleep 0.1
  done
  die "$1 did not answer on $2 within 30s; see $LOGS/$1.log"
}

buildkitd_start() { # buildkitd_start NAME ROOTDIR SOCKET [CDI_SPEC_DIR]
  local name=$1 root=$2 sock=$3 conf=$STATE/$1.toml
  mkdir -p "$root" "$LOGS"
  write_buildkitd_config "$root" "$sock" "$conf.new" "${4:-}"
  if pid_alive "$name" "$BIN/buildkitd" && cmp -s "$conf" "$conf.new" &&
    "$BIN/buildctl" --addr "unix://$sock" debug workers >/dev/null 2>&1; then
    rm -f "$conf.new"
    log "$name already running on unix://$sock"
    return
  fi
  stop_pid "$name" "$BIN/buildkitd"
  mv "$conf.new" "$conf"
  rm -f "$sock"
  start_daemon "$name" "$LOGS/$name.log" "$BIN/buildkitd" --config "$conf"
  buildkitd_wait "$name" "$sock"
  log "$name running on unix://$sock, platforms: $("$BIN/buildctl" --addr "unix://$sock" debug workers --format '{{range .}}{{range .Platforms}}{{.OS}}/{{.Architecture}}{{with .Variant}}/{{.}}{{end}} {{end}}{{end}}')"
}

builder_running() { # builder_running BUILDER
  # grep reads all of it (no -q): with pipefail, a grep that stops at the first match lets
  # buildx die of SIGPIPE on its later lines. Three tries: a buildkitd busy with the end of a
  # big build can miss one inspect, and a running builder must not read as down (a CI run
  # failed on exactly that).
  local try
  for try in 1 2 3; do
    "$BIN/buildx" inspect "$1" 2>/dev/null | grep '^Status: *running' >/dev/null && return 0
    (( try == 3 )) || sleep 1
  done
  return 1
}

builder_create() { # builder_create BUILDER SOCKET
  local current
  current=$("$BIN/buildx" inspect "$1" 2>/dev/null | sed -n 's/^Endpoint: *//p' | head -1 || true)
  if [[ $current != "unix://$2" ]]; then
    "$BIN/buildx" rm "$1" >/dev/null 2>&1 || true
    "$BIN/buildx" create --name "$1" --driver remote "unix://$2" >/dev/null
  fi
  "$BIN/buildx" inspect --bootstrap "$1" >/dev/null
}

# ---------------------------------------------------------------- base images

# One rootfs tarball per architecture, cached across sandboxes and machines' runs: debootstrap
# is the slow part (minutes, and a second stage under QEMU for arm64).
debootstrap_rootfs() { # debootstrap_rootfs ARCH -> prints tarball path
  local arch=$1 dir tarball=$CACHE/debootstrap/$DEBIAN_SUITE-minbase-$1.tar
  if [[ -s $tarball ]]; then echo "$tarball"; return; fi
  mkdir -p "$CACHE/debootstrap"
  dir=$(mktemp -d "$CACHE/debootstrap/rootfs-$arch.XXXXXX")
  local dlog=$LOGS/debootstrap-$arch.log start=$SECONDS
  log "debootstrap --variant=minbase $DEBIAN_SUITE $arch (log: $dlog)"
  if [[ $arch == "$(dpkg --print-architecture)" ]]; then
    debootstrap --variant=minbase --arch="$arch" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$dlog" 2>&1 ||
      die "debootstrap $arch failed; see $dlog"
  else
    [[ $(state_get ARM64) == qemu ]] || die "cannot debootstrap $arch: QEMU for $arch is not registered (binfmt_misc)"
    debootstrap --variant=minbase --arch="$arch" --foreign "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$dlog" 2>&1 ||
      die "debootstrap --foreign $arch failed; see $dlog"
    # The second stage runs the target's own binaries: binfmt_misc hands them to QEMU.
    chroot "$dir" /debootstrap/debootstrap --second-stage >>"$dlog" 2>&1 ||
      die "debootstrap second stage for $arch failed under QEMU; see $dlog"
  fi
  # Drop what differs from run to run or only helps an interactive system.
  rm -rf "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/debootstrap \
    "$dir"/var/cache/ldconfig/aux-cache "$dir"/tmp/* "$dir"/var/tmp/*
  : > "$dir/etc/machine-id"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$dir/etc/apt/apt.conf.d/90factory-no-recommends"
  # Sorted entries, numeric owners, clamped mtimes: the tarball (and so the layer) only depends
  # on the installed files.
  tar --sort=name --numeric-owner --xattrs --mtime="@$SDE" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$dir" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$dir"
  log "debootstrap $arch took $((SECONDS - start))s ($(du -h "$tarball" | cut -f1))"
  echo "$tarball"
}

base_images() {
  local registry ctx platforms arches=(amd64) a
  registry=$(state_get REGISTRY)
  [[ $(state_get ARM64) != unavailable ]] && arches+=(arm64)
  platforms=$(printf 'linux/%s,' "${arches[@]}")
  platforms=${platforms%,}
  ctx=$CACHE/context-debian
  mkdir -p "$ctx"
  for a in "${arches[@]}"; do
    local t
    t=$(debootstrap_rootfs "$a")
    ln -f "$t" "$ctx/rootfs-$a.tar" 2>/dev/null || cp "$t" "$ctx/rootfs-$a.tar"
  done
  # Added by the sandbox only: Debian's minbase has no CA bundle, and builds that fetch over
  # HTTPS need this machine's trust store (which may include a proxy's CA).
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cp "$HERE/sandbox/debian.Dockerfile" "$ctx/Dockerfile"
  local inputs
  local tars=()
  for a in "${arches[@]}"; do tars+=("rootfs-$a.tar"); done
  inputs=$(cd "$ctx" && sha256sum Dockerfile ca-certificates.crt "${tars[@]}" | sha256sum | cut -c1-64)
  inputs="$inputs-$SDE-$platforms"

  build_base debian "$registry/base/debian:$DEBIAN_SUITE" "$inputs" "$platforms" \
    --local context="$ctx" --local dockerfile="$ctx"

  local bctx=$CACHE/context-busybox
  mkdir -p "$bctx"
  cp "$HERE/sandbox/busybox.Dockerfile" "$bctx/Dockerfile"
  local debian_digest
  debian_digest=$(state_get BASE_DEBIAN)
  build_base busybox "$registry/base/busybox:stable" "$(sha256sum < "$bctx/Dockerfile" | cut -c1-64)-$debian_digest-$SDE-$platforms" "$platforms" \
    --local context="$bctx" --local dockerfile="$bctx" --opt "build-arg:DEBIAN=$debian_digest"

  local cctx=$CACHE/context-cuda
  mkdir -p "$cctx"
  cp "$HERE/sandbox/cuda.Dockerfile" "$cctx/Dockerfile"
  build_base cuda "$registry/base/cuda:12.4-standin" "$(sha256sum < "$cctx/Dockerfile" | cut -c1-64)-$debian_digest-$SDE-$platforms" "$platforms" \
    --local context="$cctx" --local dockerfile="$cctx" --opt "build-arg:DEBIAN=$debian_digest"
}

# BuildKit's SBOM attestations run a scanner image (docker/buildkit-syft-scanner on Docker Hub,
# unreachable here); scripts/sandbox-scanner.sh builds one from its Go module and pushes it.
sbom_scanner() {
  [[ -x $ROOT/scripts/sandbox-scanner.sh ]] || { log "no scripts/sandbox-scanner.sh; SBOM attestations need a scanner image"; return; }
  local ref start=$SECONDS
  ref=$("$ROOT/scripts/sandbox-scanner.sh" 2>"$LOGS/sbom-scanner.log") || die "building the SBOM scanner image failed; see $LOGS/sbom-scanner.log"
  state_set SBOM_SCANNER "$ref"
  log "SBOM scanner $ref ($((SECONDS - start))s)"
}

build_base() { # build_base NAME REF INPUTS PLATFORMS buildctl-args...
  local name=$1 ref=$2 inputs=$3 platforms=$4 key
  shift 4
  key=BASE_$(echo "$name" | tr '[:lower:]' '[:upper:]')
  local registry=${ref%%/*} repo_tag=${ref#*/}
  local repo=${repo_tag%:*} tag=${repo_tag##*:}
  # The pinned reference names the registry's port, which changes when the port was taken.
  if [[ $(state_get "${key}_INPUTS") == "$inputs" && $(state_get "$key") == "$ref@"* ]] &&
    curl -fsS -o /dev/null -I -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$registry/v2/$repo/manifests/$tag"; then
    log "base image $ref is up to date ($(state_get "$key"))"
    return
  fi
  local start=$SECONDS meta=$STATE/$name.metadata.json
  log "building base image $ref for $platforms (log: $LOGS/base-$name.log)"
  "$BIN/buildctl" --addr "unix://$SOCK" build --frontend dockerfile.v0 "$@" \
    --opt platform="$platforms" --opt build-arg:SOURCE_DATE_EPOCH="$SDE" \
    --output "type=image,name=$ref,push=true,oci-mediatypes=true,rewrite-timestamp=true" \
    --metadata-file "$meta" --progress plain >"$LOGS/base-$name.log" 2>&1 ||
    die "building $ref failed; see $LOGS/base-$name.log"
  local digest
  digest=$(jq -r '."containerimage.digest"' "$meta")
  [[ $digest == sha256:* ]] || die "no digest for $ref in $meta"
  state_set "$key" "$ref@$digest"
  state_set "${key}_INPUTS" "$inputs"
  log "pushed $ref@$digest in $((SECONDS - start))s"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  require_root
  mkdir -p "$STATE" "$LOGS" "$PIDS"
  exec 9>"$STATE/.lock"
  flock 9 # concurrent `up`s (tests, people) wait for the first instead of racing it
  local start=$SECONDS
  install_packages
  install_binaries
  setup_binfmt
  registry_up
  buildkitd_start buildkitd "$STATE/buildkit" "$SOCK"
  state_set BUILDKIT_HOST "unix://$SOCK"
  builder_create "$BUILDER" "$SOCK"
  state_set BUILDX_BUILDER "$BUILDER"
  "$BIN/buildx" use --global "$BUILDER" >/dev/null 2>&1 || "$BIN/buildx" use "$BUILDER"
  base_images
  sbom_scanner
  log "up in $((SECONDS - start))s; \`scripts/sandbox.sh env\` prints the variables"
}

cmd_down() {
  local purge=${1:-}
  [[ -d $PIDS ]] || { log "nothing started"; return; }
  exec 9>"$STATE/.lock"
  flock 9
  local f name
  for f in "$PIDS"/buildkitd-*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid)
    stop_pid "$name" "$BIN/buildkitd"
    "$BIN/buildx" rm "factory-${name#buildkitd-}" >/dev/null 2>&1 || true
  done
  stop_pid buildkitd "$BIN/buildkitd"
  stop_pid registry /usr/bin/docker-registry
  "$BIN/buildx" rm "$BUILDER" >/dev/null 2>&1 || true
  if [[ $purge == --purge ]]; then
    log "removing state in $STATE (registry data, BuildKit cache)"
    rm -rf "$STATE"
  fi
}

cmd_status() {
  local rc=0 registry port platforms
  registry=$(state_get REGISTRY)
  printf '%-12s %s\n' binaries "buildkitd $("$BIN/buildkitd" --version 2>/dev/null | awk '{print $3}' || echo missing), buildx $("$BIN/buildx" version 2>/dev/null | awk '{print $2}' || echo missing)"
  if pid_alive registry /usr/bin/docker-registry && curl -fsS -o /dev/null "http://$registry/v2/"; then
    printf '%-12s %s\n' registry "up  $registry (pid $(cat "$PIDS/registry.pid"))"
  else printf '%-12s %s\n' registry down; rc=1; fi
  if pid_alive buildkitd "$BIN/buildkitd" && platforms=$("$BIN/buildctl" --addr "unix://$SOCK" debug workers --format '{{range .}}{{range .Platforms}}{{.OS}}/{{.Architecture}} {{end}}{{end}}' 2>/dev/null); then
    printf '%-12s %s\n' buildkitd "up  unix://$SOCK (pid $(cat "$PIDS/buildkitd.pid")) platforms: $platforms"
  else printf '%-12s %s\n' buildkitd down; rc=1; fi
  printf '%-12s %s\n' qemu-arm64 "$(state_get ARM64 || true)$( [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] && echo " ($(head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64))")"
  if builder_running "$BUILDER"; then
    printf '%-12s %s\n' builder "up  $BUILDER (remote, unix://$SOCK)"
  else printf '%-12s %s\n' builder down; rc=1; fi
  local k
  for k in BASE_DEBIAN BASE_BUSYBOX BASE_CUDA; do
    local ref
    ref=$(state_get $k)
    local repo=${ref#*/}
    repo=${repo%%@*}
    repo=${repo%:*}
    if [[ -n $ref ]] && curl -fsS -o /dev/null -I -H 'Accept: application/vnd.oci.image.index.v1+json' "http://${ref%%/*}/v2/$repo/manifests/${ref##*@}"; then
      printf '%-12s %s\n' "$(echo "${k#BASE_}" | tr '[:upper:]' '[:lower:]')" "up  $ref"
    else printf '%-12s %s\n' "$(echo "${k#BASE_}" | tr '[:upper:]' '[:lower:]')" missing; rc=1; fi
  done
  for f in "$PIDS"/buildkitd-*.pid; do
    [[ -e $f ]] || continue
    local name
    name=$(basename "$f" .pid)
    pid_alive "$name" "$BIN/buildkitd" && printf '%-12s %s\n' "$name" "up  unix://$STATE/$name.sock"
  done
  return $rc
}

cmd_env() {
  [[ -f $STATE_ENV ]] || die "sandbox is not up; run scripts/sandbox.sh up"
  local k
  for k in REGISTRY BUILDKIT_HOST BUILDX_BUILDER BASE_DEBIAN BASE_BUSYBOX BASE_CUDA SBOM_SCANNER; do
    echo "$k=$(state_get $k)"
  done
  echo "SOURCE_DATE_EPOCH=$SDE"
}

cmd_verify() {
  local registry debian ctx
  registry=$(state_get REGISTRY)
  debian=$(state_get BASE_DEBIAN)
  [[ -n $debian ]] || die "no base image; run scripts/sandbox.sh up"
  ctx=$(mktemp -d)
  cat > "$ctx/Dockerfile" <<'EOF'
ARG BASE
FROM ${BASE}
ARG CACHEBUST
RUN echo "$CACHEBUST" >/dev/null && apt-get update && apt-get install -y --no-install-recommends curl \
 && curl -fsSI https://deb.debian.org/debian/ >/dev/null && echo "apt+https ok on $(uname -m)"
EOF
  log "verify: apt-get install curl + HTTPS fetch on linux/amd64 and linux/arm64 (log: $LOGS/verify.log)"
  local start=$SECONDS
  "$BIN/buildx" build --builder "$BUILDER" --platform linux/amd64,linux/arm64 --progress plain \
    --build-arg BASE="$debian" --build-arg CACHEBUST="$(date +%s%N)" "$ctx" >"$LOGS/verify.log" 2>&1 ||
    { rm -rf "$ctx"; die "verify failed; see $LOGS/verify.log"; }
  rm -rf "$ctx"
  grep -oE 'apt\+https ok on [a-z0-9_]+' "$LOGS/verify.log" | sort -u >&2
  log "verify passed in $((SECONDS - start))s"
}

cmd_builder_up() {
  local name=${1:?usage: builder-up NAME}
  [[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "builder name must be lower-case letters, digits and '-'"
  [[ -n $(state_get REGISTRY) ]] || die "sandbox is not up; run scripts/sandbox.sh up"
  local root=$STATE/builders/$name sock=$STATE/buildkitd-$name.sock
  buildkitd_start "buildkitd-$name" "$root" "$sock"
  builder_create "factory-$name" "$sock"
  echo "factory-$name"
}

cmd_cdi_builder_up() {
  local name=${1:?usage: cdi-builder-up NAME [--no-spec]} spec=${2:-}
  [[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "builder name must be lower-case letters, digits and '-'"
  [[ -z $spec || $spec == --no-spec ]] || die "cdi-builder-up: unknown option $spec (only --no-spec)"
  [[ -n $(state_get REGISTRY) ]] || die "sandbox is not up; run scripts/sandbox.sh up"
  local root=$STATE/builders/$name sock=$STATE/buildkitd-$name.sock dir=$STATE/cdi/$name
  mkdir -p "$dir"
  rm -f "$dir"/*.yaml
  [[ $spec == --no-spec ]] || cp "$HERE/sandbox/factory-test-cdi.yaml" "$dir/factory-test.yaml"
  buildkitd_start "buildkitd-$name" "$root" "$sock" "$dir"
  builder_create "factory-$name" "$sock"
  echo "factory-$name"
}

cmd_builder_down() {
  local name=${1:?usage: builder-down NAME}
  stop_pid "buildkitd-$name" "$BIN/buildkitd"
  "$BIN/buildx" rm "factory-$name" >/dev/null 2>&1 || true
  rm -rf "$STATE/builders/$name" "$STATE/buildkitd-$name.toml" "$STATE/buildkitd-$name.sock" "$STATE/cdi/$name"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  verify) cmd_verify ;;
  builder-up) cmd_builder_up "${2:-}" ;;
  builder-down) cmd_builder_down "${2:-}" ;;
  cdi-builder-up) cmd_cdi_builder_up "${2:-}" "${3:-}" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
