#!/usr/bin/env bash
# npm run bench:cache-reexport [-- RUNS [WAY...]] — why the test build exports no image cache.
#
# The action (and the e2e suite) build a target's images first, then its test targets, which
# take the images through `target:` contexts and so rebuild them from the builder's state. If
# that second bake kept the images' cache-to, it would export their refs again and replace the
# export of the image build. This measures what that costs: per run, on the sandbox, a cold
# image bake on an empty builder, the test bake on the same builder (with the re-export, or
# with `--set <image-or-stage>.cache-to=` as src/action/context.ts testArgs does), then a warm
# image bake on another empty builder that reads the registry cache. It prints, per way, the
# runs whose warm bake executed a step instead of taking it from the cache. The ways: reexport,
# no-reexport (the default pair), and no-reexport+union, where every target of a shared stage
# also reads the cache refs of the others that share it.
# The factory's shape, cut down, is in bench/cache-reexport/ (shared stages, SBOM, provenance).
set -euo pipefail
runs=${1:-6}
shift || true
ways=("$@")
[ ${#ways[@]} -gt 0 ] || ways=(reexport no-reexport)
root=$(cd "$(dirname "$0")/.." && pwd)
sandbox="$root/scripts/sandbox.sh"
bash "$sandbox" up >/dev/null 2>&1 || { echo "scripts/sandbox.sh up failed; run it to see why" >&2; exit 1; }
eval "$(bash "$sandbox" env | sed 's/^/export /')"
export BASE_IMAGE=$BASE_BUSYBOX SCANNER=$SBOM_SCANNER BUILDX_NO_DEFAULT_ATTESTATIONS=1
work=$(mktemp -d)
builders=()
cleanup() {
  for b in "${builders[@]}"; do bash "$sandbox" builder-down "$b" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cp "$root"/bench/cache-reexport/* "$work/"
cd "$work"
export OUT=$work/out

# Steps (RUN) of a rawjson log that completed without coming from the cache.
missed() {
  node -e '
    const v = new Map();
    for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
      let d; try { d = JSON.parse(line); } catch { continue; }
      for (const x of d.vertexes ?? []) v.set(x.digest, { ...v.get(x.digest), ...x, cached: v.get(x.digest)?.cached || x.cached });
    }
    console.log([...v.values()].filter((x) => / RUN /.test(x.name ?? "") && x.completed && !x.cached).length);
  ' "$1"
}

# The targets the test bake pulls in that are not tests: the images and the shared stages.
# shellcheck disable=SC2016 # the ${t} is JavaScript's
mapfile -t under < <(CACHE_REPO=x REG=x buildx bake --print tests 2>/dev/null | node -e '
  const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const t of Object.keys(d.target)) if (!t.startsWith("test-")) console.log(`--set=${t}.cache-to=`);')

declare -A bad=() steps=()
for i in $(seq 1 "$runs"); do
  for way in "${ways[@]}"; do
    id=${way//+/-}-$i-$(date +%s%N | tail -c 7)
    export UNION=0
    [[ $way != *union* ]] || UNION=1
    export CACHE_REPO=$REGISTRY/bench-reexport-$id/cache REG=$REGISTRY/bench-reexport-$id
    cold=$(bash "$sandbox" builder-up "c$id" 2>>"$work/sandbox.log" | tail -1); builders+=("c$id")
    warm=$(bash "$sandbox" builder-up "w$id" 2>>"$work/sandbox.log" | tail -1); builders+=("w$id")
    buildx bake --builder "$cold" --progress rawjson default >"cold-$id.log" 2>&1
    sets=()
    [[ $way != no-reexport* ]] || sets=("${under[@]}")
    buildx bake --builder "$cold" --progress rawjson "${sets[@]}" tests >"tests-$id.log" 2>&1
    buildx bake --builder "$warm" --progress rawjson --set '*.cache-to=' default >"warm-$id.log" 2>&1
    m=$(missed "warm-$id.log")
    echo "run $i, $way: $m step(s) executed in the warm bake" >&2
    steps[$way]=$(( ${steps[$way]:-0} + m ))
    (( m == 0 )) || bad[$way]=$(( ${bad[$way]:-0} + 1 ))
    bash "$sandbox" builder-down "c$id" >/dev/null 2>&1; bash "$sandbox" builder-down "w$id" >/dev/null 2>&1
  done
done
printf '%-18s %5s %22s %20s\n' 'way' runs 'warm runs with a miss' 'missed steps (all)'
for way in "${ways[@]}"; do
  printf '%-18s %5s %22s %20s\n' "$way" "$runs" "${bad[$way]:-0}" "${steps[$way]:-0}"
done
