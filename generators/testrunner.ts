// Test targets (docs/architecture.md "Bake"): the fragment and product tests become a generated
// POSIX sh runner that runs inside BuildKit on the image under test, plus the Dockerfile stages
// around it. The runner must work on dash and busybox sh, never fails its own RUN (a failing
// test is a result), and writes:
//   /factory-test/out/results.json  { version: 1, subject, summary: {passed, failed, skipped,
//                                     total}, tests: [{ name, origin, status, exitCode,
//                                     durationMs, output, message }] }
//   /factory-test/out/summary        passed=N / failed=N / skipped=N / total=N (sh-sourceable)
//   /factory-test/out/failures       one "name: message" line per failed test
// The `test-verdict` stage re-runs the script with --verdict, which fails when failed > 0.
import { shQuote } from '../src/core/escape.js';
import { fragmentDockerfilePath } from '../src/core/render.js';
import type { AcceleratorName, FragmentSource, Located, Pool, PlatformName, ResolvedFactory, ResolvedProduct, Target, Test, Variant } from '../src/core/types.js';

/** The named context through which a combined test Dockerfile receives the image under test. */
export const IMAGE_UNDER_TEST = 'factory-image-under-test';
export const RUNNER_IN_IMAGE = '/factory-test/run.sh';
const OUT = '/factory-test/out';
/** Seconds one test may run before `timeout` (where the image has it) stops it. */
export const TEST_TIMEOUT_S = 900;

export interface TestCase {
  test: Test;
  /** Who declared it: a fragment ref (`python@1.0.0`) or a product id (`py-app@1.0.0`). */
  origin: string;
}

export interface RunnerOptions {
  /** What is tested, for results.json: `py-app@1.0.0:python3.11 (linux/amd64)`. */
  subject: string;
  accelerator: AcceleratorName;
  /**
   * The labels the image will carry, known at generation time: label tests are decided here.
   * Undefined where the image carries no factory labels (isolated fragment tests): skipped.
   */
  labels?: Readonly<Record<string, string>>;
  /** Label keys whose value is only known at build time (bake variables such as REVISION). */
  dynamicLabels?: readonly string[];
  /**
   * The image's default user as the Dockerfile sets it (see `dockerfileUser`); empty when the
   * Dockerfile never sets one, and the runner falls back to what the probe RUN recorded.
   */
  imageUser?: string;
}

/**
 * The user the last USER instruction of a rendered Dockerfile sets (the chain is linear, so the
 * last one is the image's), without its group; '' when there is none or it uses a variable.
 */
export function dockerfileUser(text: string): string {
  let user = '';
  for (const m of text.matchAll(/^[ \t]*USER[ \t]+(\S+)/gim)) user = m[1]!.split(':')[0]!;
  return user.includes('$') ? '' : user;
}

/** The Dockerfile stages that run a runner on `image` (a stage name or a named context). */
export function testStages(image: string, runnerPath: string): string {
  return [
    `FROM ${image} AS test-run`,
    '# The tests run as root so that each can switch to the user it names (the image user by',
    "# default). The image user is known from the Dockerfile; where it sets none, it is the base",
    "# image's, recorded here before switching (where /tmp is writable).",
    'RUN ["/bin/sh", "-c", "{ id -un 2>/dev/null || id -u; } > /tmp/factory-image-user 2>/dev/null || true"]',
    'USER 0:0',
    `COPY --chmod=0755 ${runnerPath} ${RUNNER_IN_IMAGE}`,
    `RUN ["/bin/sh", "${RUNNER_IN_IMAGE}"]`,
    '',
    'FROM scratch AS test-results',
    `COPY --from=test-run ${OUT}/ /`,
    '',
    'FROM test-run AS test-verdict',
    `RUN ["/bin/sh", "${RUNNER_IN_IMAGE}", "--verdict"]`,
    '',
  ].join('\n');
}

/** The runner script for these tests, in declaration order. */
export function generateRunner(cases: readonly TestCase[], opts: RunnerOptions): string {
  const body = cases.map((c) => testBlock(c, opts)).join('\n');
  const prelude = PRELUDE.replace('@SUBJECT@', shQuote(JSON.stringify(opts.subject))).replace('@IMAGE_USER@', shQuote(opts.imageUser ?? ''));
  return `${prelude}\n${body}${body ? '\n' : ''}${EPILOGUE}`;
}

function q(s: string): string {
  return shQuote(s);
}
function jq(s: string): string {
  return shQuote(JSON.stringify(s));
}

function testBlock(c: TestCase, opts: RunnerOptions): string {
  const t = c.test;
  const head = `# ${t.name.replace(/[^\x20-\x7e]/g, '?')} (${c.origin})\n`;
  const id = `${jq(t.name)} ${jq(c.origin)}`;
  if (t.skip && (t.skip.accelerator === undefined || t.skip.accelerator.includes(opts.accelerator))) {
    return `${head}_f_record ${id} skipped null '' ${q(`skipped: ${t.skip.reason}`)} 0\n`;
  }
  if ('label' in t) return head + labelBlock(id, t.label, opts);
  if ('runs-as' in t) {
    const want = t['runs-as'];
    return (
      `${head}if [ "$_f_image_user" = ${q(want)} ]; then _f_record ${id} passed null '' '' 0; ` +
      `else _f_record ${id} failed null '' "the image runs as \${_f_image_user:-an unknown user}, expected ${want}" 0; fi\n`
    );
  }
  const user = q(t.user ?? '');
  if ('command' in t) {
    const env = t.env ? Object.keys(t.env).sort().map((k) => `${k}=${q(t.env![k]!)}`) : [];
    const script = `${env.length ? `export ${env.join(' ')}\n` : ''}${t.command}\n`;
    return `${head}_f_run ${id} ${user} ${q(script)} ${t.exit ?? 0} ${q(t.stdout?.contains ?? '')} ${q(t.stdout?.matches ?? '')} ${q(t.stderr?.contains ?? '')} ${q(t.stderr?.matches ?? '')}\n`;
  }
  if ('file' in t) {
    const p = q(t.file);
    let script: string;
    if (t.exists === false) {
      script = `if [ -e ${p} ] || [ -L ${p} ]; then echo ${q(`${t.file} exists, expected it not to`)} >&2; exit 1; fi\n`;
    } else {
      script = `if [ ! -e ${p} ] && [ ! -L ${p} ]; then echo ${q(`${t.file} does not exist`)} >&2; exit 1; fi\n`;
      if (t.mode !== undefined) {
        const want = t.mode.replace(/^0+(?=.)/, '');
        script +=
          `m=$(stat -c %a ${p} 2>/dev/null) || { echo ${q(`cannot read the mode of ${t.file} (no stat in the image)`)} >&2; exit 1; }\n` +
          `[ "$m" = ${q(want)} ] || { echo ${q(`${t.file} has mode `)}"$m"${q(`, expected ${want}`)} >&2; exit 1; }\n`;
      }
    }
    return `${head}_f_run ${id} ${user} ${q(script)} 0 '' '' '' ''\n`;
  }
  if ('env-equals' in t) {
    const env = t['env-equals'];
    let script = '_f_ok=0\n';
    for (const k of Object.keys(env).sort()) {
      // Names are validated as shell identifiers by the schema.
      script +=
        `if [ "\${${k}+set}" != set ]; then echo ${q(`${k} is not set, expected `)}${q(env[k]!)} >&2; _f_ok=1; ` +
        `elif [ "$${k}" != ${q(env[k]!)} ]; then echo ${q(`${k}=`)}"$${k}"${q(', expected ')}${q(env[k]!)} >&2; _f_ok=1; fi\n`;
    }
    script += 'exit $_f_ok\n';
    return `${head}_f_run ${id} ${user} ${q(script)} 0 '' '' '' ''\n`;
  }
  return `${head}_f_record ${id} failed null '' 'unknown kind of test' 0\n`;
}

function labelBlock(id: string, want: Readonly<Record<string, string>>, opts: RunnerOptions): string {
  if (opts.labels === undefined) {
    return `_f_record ${id} skipped null '' 'skipped: labels are checked on product images (the combined test)' 0\n`;
  }
  const problems: string[] = [];
  for (const k of Object.keys(want).sort()) {
    const have = opts.labels[k];
    if (opts.dynamicLabels?.includes(k)) problems.push(`${k} is set at build time (a bake variable) and cannot be checked here`);
    else if (have === undefined) problems.push(`${k} is not set, expected ${JSON.stringify(want[k])}`);
    else if (have !== want[k]) problems.push(`${k}=${JSON.stringify(have)}, expected ${JSON.stringify(want[k])}`);
  }
  // Decided at generation time from the labels the bake target sets; recorded like any result.
  return problems.length === 0
    ? `_f_record ${id} passed null '' '' 0\n`
    : `_f_record ${id} failed null '' ${q(problems.join('; '))} 0\n`;
}

const PRELUDE = `#!/bin/sh
# Generated by the container factory (generators/testrunner.ts). Do not edit.
# Runs the tests below on the image under test and writes ${OUT}/results.json and summary.
# It never fails itself: a failing test is a result; "--verdict" turns results into an exit code.
set +e
# The FACTORY_TEST_* overrides exist for the runner's own tests outside an image.
_f_out=\${FACTORY_TEST_OUT:-${OUT}}
_f_work=\${FACTORY_TEST_WORK:-/factory-test/work}
_f_subject=@SUBJECT@

if [ "\${1-}" = --verdict ]; then
  if [ ! -r "$_f_out/summary" ]; then echo "factory tests: no summary in $_f_out" >&2; exit 2; fi
  _f_get() { sed -n "s/^$1=//p" "$_f_out/summary"; }
  _f_failed=$(_f_get failed)
  echo "factory tests: $(_f_get passed) passed, $_f_failed failed, $(_f_get skipped) skipped"
  if [ "\${_f_failed:-1}" -gt 0 ]; then cat "$_f_out/failures" >&2; exit 1; fi
  exit 0
fi

umask 022
mkdir -p "$_f_out" "$_f_work"
: > "$_f_work/results"
: > "$_f_out/failures"
_f_passed=0; _f_failed=0; _f_skipped=0; _f_n=0
_f_image_user=@IMAGE_USER@
if [ -z "$_f_image_user" ]; then _f_image_user=$(cat "\${FACTORY_IMAGE_USER_FILE:-/tmp/factory-image-user}" 2>/dev/null); fi
_f_tab=$(printf '\\t')
_f_timeout=''
if command -v timeout >/dev/null 2>&1; then _f_timeout="timeout ${TEST_TIMEOUT_S}"; fi

# Milliseconds of uptime (seconds precision where /proc is missing).
_f_now() {
  if [ -r /proc/uptime ]; then awk '{ printf "%d", $1 * 1000 }' /proc/uptime
  else echo $(( $(date +%s) * 1000 )); fi
}

# A JSON string of $1: control characters but tab and newline dropped, the rest escaped.
_f_json() {
  printf '%s' "$1" | tr -d '\\000-\\010\\013-\\037\\177' \\
    | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' -e "s/$_f_tab/\\\\\\\\t/g" \\
    | awk 'BEGIN { printf "\\"" } NR > 1 { printf "\\\\n" } { printf "%s", $0 } END { printf "\\"" }'
}

# _f_record NAME_JSON ORIGIN_JSON STATUS EXIT OUTPUT MESSAGE DURATION_MS
_f_record() {
  case "$3" in
    passed) _f_passed=$((_f_passed + 1)) ;;
    failed) _f_failed=$((_f_failed + 1)); printf '%s: %s\\n' "$1" "$6" >> "$_f_out/failures" ;;
    *) _f_skipped=$((_f_skipped + 1)) ;;
  esac
  printf '    {"name": %s, "origin": %s, "status": "%s", "exitCode": %s, "durationMs": %s, "output": %s, "message": %s}\\n' \\
    "$1" "$2" "$3" "$4" "$7" "$(_f_json "$5")" "$(_f_json "$6")" >> "$_f_work/results"
}

# _f_as USER SCRIPT: runs SCRIPT with /bin/sh as USER (the image user when empty).
_f_as() {
  _f_u=\${1:-$_f_image_user}
  _f_me=$(id -un 2>/dev/null || id -u)
  if [ -z "$_f_u" ] || [ "$_f_u" = "$_f_me" ] || { [ "$_f_u" = 0 ] && [ "$(id -u)" = 0 ]; }; then
    $_f_timeout /bin/sh "$2"
  elif command -v su >/dev/null 2>&1; then
    $_f_timeout su -p -s /bin/sh -c "/bin/sh $2" "$_f_u"
  else
    echo "cannot run as $_f_u: su is not installed in the image" >&2
    return 126
  fi
}

# True when file $1 contains the text $2.
_f_contains() {
  case "$(cat "$1")" in *"$2"*) return 0 ;; esac
  return 1
}

# _f_run NAME_JSON ORIGIN_JSON USER SCRIPT EXIT OUT_CONTAINS OUT_MATCHES ERR_CONTAINS ERR_MATCHES
_f_run() {
  _f_n=$((_f_n + 1))
  _f_s="$_f_work/t$_f_n"
  printf '%s' "$4" > "$_f_s.sh"
  chmod 0644 "$_f_s.sh"
  _f_t0=$(_f_now)
  _f_as "$3" "$_f_s.sh" > "$_f_s.out" 2> "$_f_s.err" < /dev/null
  _f_code=$?
  _f_t1=$(_f_now)
  _f_msg=''
  if [ "$_f_code" -ne "$5" ]; then
    _f_msg="exit code $_f_code, expected $5"
    if [ "$_f_code" -eq 124 ] && [ -n "$_f_timeout" ]; then _f_msg="$_f_msg (timed out after ${TEST_TIMEOUT_S}s)"; fi
  elif [ -n "$6" ] && ! _f_contains "$_f_s.out" "$6"; then _f_msg="stdout does not contain: $6"
  elif [ -n "$7" ] && ! grep -Eq -e "$7" "$_f_s.out"; then _f_msg="no stdout line matches: $7"
  elif [ -n "$8" ] && ! _f_contains "$_f_s.err" "$8"; then _f_msg="stderr does not contain: $8"
  elif [ -n "$9" ] && ! grep -Eq -e "$9" "$_f_s.err"; then _f_msg="no stderr line matches: $9"
  fi
  _f_output=$(cat "$_f_s.out" "$_f_s.err" | tail -c 2000)
  if [ -z "$_f_msg" ]; then _f_st=passed; else _f_st=failed; fi
  _f_record "$1" "$2" "$_f_st" "$_f_code" "$_f_output" "$_f_msg" $((_f_t1 - _f_t0))
}
`;

const EPILOGUE = `
_f_total=$((_f_passed + _f_failed + _f_skipped))
{
  printf '{\\n  "version": 1,\\n  "subject": %s,\\n' "$_f_subject"
  printf '  "summary": {"passed": %d, "failed": %d, "skipped": %d, "total": %d},\\n' "$_f_passed" "$_f_failed" "$_f_skipped" "$_f_total"
  if [ -s "$_f_work/results" ]; then
    printf '  "tests": [\\n'
    sed '$!s/$/,/' "$_f_work/results"
    printf '  ]\\n}\\n'
  else
    printf '  "tests": []\\n}\\n'
  fi
} > "$_f_out/results.json"
printf 'passed=%d\\nfailed=%d\\nskipped=%d\\ntotal=%d\\n' "$_f_passed" "$_f_failed" "$_f_skipped" "$_f_total" > "$_f_out/summary"
echo "factory tests: $_f_passed passed, $_f_failed failed, $_f_skipped skipped"
exit 0
`;

// ---------------------------------------------------------------------------------------------
// Which tests run where.

/** The combined test of a target: its fragments' tests in build order, then the product's. */
export function combinedTestCases(product: ResolvedProduct): TestCase[] {
  const cases: TestCase[] = [];
  for (const f of product.fragments) {
    for (const test of f.meta.doc.tests) cases.push({ test, origin: `${f.meta.doc.name}@${f.meta.doc.version}` });
  }
  for (const test of product.product.doc.tests ?? []) cases.push({ test, origin: product.id });
  return cases;
}

export interface FragmentTestPlan {
  /** `name@version` */
  ref: string;
  fragment: FragmentSource;
  /** The first product (by id) using this fragment version: its template, pins and locals. */
  host: ResolvedProduct;
  variant: Variant;
  /** The template's base (what the isolated test builds on). */
  base: ResolvedProduct['base'];
  /** The platforms the fragment is built for by some product, with a pool for each. */
  platforms: { platform: PlatformName; arch: string; pool: Located<Pool> }[];
  accelerator: AcceleratorName;
  dockerfilePath: string;
  runnerPath: string;
  /** Bake target name without the arch: `test-fragment-<name>-<version>`. */
  targetPrefix: string;
  cases: TestCase[];
}

/** One isolated test per fragment version in use, sorted by ref. */
export function planFragmentTests(factory: ResolvedFactory): FragmentTestPlan[] {
  const products = [...factory.products].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byRef = new Map<string, { fragment: FragmentSource; host: ResolvedProduct; targets: Target[] }>();
  for (const p of products) {
    for (const f of p.fragments) {
      const ref = `${f.meta.doc.name}@${f.meta.doc.version}`;
      if (!byRef.has(ref)) byRef.set(ref, { fragment: f, host: p, targets: [] });
    }
  }
  for (const t of factory.targets) {
    for (const f of t.product.fragments) byRef.get(`${f.meta.doc.name}@${f.meta.doc.version}`)!.targets.push(t);
  }
  const plans: FragmentTestPlan[] = [];
  for (const ref of [...byRef.keys()].sort()) {
    const { fragment, host, targets } = byRef.get(ref)!;
    const fdoc = fragment.meta.doc;
    const accelerator: AcceleratorName = (fdoc.accelerators ?? ['cpu']).includes('cpu') ? 'cpu' : 'cuda';
    const platforms: FragmentTestPlan['platforms'] = [];
    for (const t of [...targets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (platforms.some((x) => x.platform === t.platform)) continue;
      // Prefer a pool of the test's accelerator (a CPU pool for a fragment that runs on CPU).
      const pool = factory.pools.find((pl) => pl.doc.platform === t.platform && pl.doc.accelerator === accelerator) ?? t.pool;
      platforms.push({ platform: t.platform, arch: t.arch, pool });
    }
    platforms.sort((a, b) => (a.platform < b.platform ? -1 : 1));
    const tbase = host.template.meta.doc.base;
    const baseDoc = factory.loaded.bases.find((b) => b.doc.name === tbase)?.doc;
    const pin = factory.loaded.lock?.doc.bases?.[tbase];
    const base =
      baseDoc === undefined
        ? host.base
        : { name: baseDoc.name, image: baseDoc.image, ...(pin && pin.image === baseDoc.image ? { digest: pin.digest } : {}) };
    const dockerfilePath = fragmentDockerfilePath(fragment);
    plans.push({
      ref,
      fragment,
      host,
      variant: host.variants[0]!,
      base,
      platforms,
      accelerator,
      dockerfilePath,
      runnerPath: `${dockerfilePath.slice(0, dockerfilePath.lastIndexOf('/'))}/run.sh`,
      targetPrefix: `test-fragment-${fdoc.name}-${fdoc.version}`.replace(/[^A-Za-z0-9_-]/g, '_'),
      cases: fdoc.tests.map((test) => ({ test, origin: ref })),
    });
  }
  return plans;
}
