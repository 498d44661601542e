import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResults } from '../../src/action/test-results.js';
import type { Test } from '../../src/core/types.js';
import {
  dockerfileUser,
  generateRunner,
  generateRunnerLib,
  POOL_TEST_ARGS,
  poolTestArgs,
  RUNNER_LIB_PATH,
  TEST_TIMEOUT_S,
  testDevices,
  testStages,
  type TestCase,
} from '../../generators/testrunner.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LIB = join(dir, 'lib.sh');
writeFileSync(LIB, generateRunnerLib());
process.env.FACTORY_TEST_LIB = LIB;
writeFileSync(join(dir, 'present'), 'x');
chmodSync(join(dir, 'present'), 0o640);
const me = userInfo().username;

const NASTY = `quote" backslash\\ tab\t cr\r bell\u0007 é 😀 $HOME '`;
type Row = { test: Test; status: 'passed' | 'failed' | 'skipped'; message?: RegExp; output?: string; exitCode?: number | 'absent' };
const rows: Row[] = [
  { test: { name: 'exit 0', command: 'true', exit: 0 }, status: 'passed', exitCode: 0 },
  { test: { name: 'wrong exit', command: 'exit 3', exit: 0 }, status: 'failed', message: /^exit code 3, expected 0$/, exitCode: 3 },
  { test: { name: 'expected exit', command: 'exit 3', exit: 3 }, status: 'passed', exitCode: 3 },
  { test: { name: 'stdout contains', command: 'echo "Python 3.11.2"', exit: 0, stdout: { contains: 'Python 3.11' } }, status: 'passed' },
  { test: { name: 'stdout lacks', command: 'echo nope', exit: 0, stdout: { contains: 'yes' } }, status: 'failed', message: /stdout does not contain: yes/ },
  { test: { name: 'stdout matches', command: 'printf "a\\nv1.22\\n"', exit: 0, stdout: { matches: '^v[0-9]+\\.[0-9]+$' } }, status: 'passed' },
  // What README.md says of output checks: matches is per line (grep -E), contains is the whole output.
  {
    test: { name: 'matches is per line', command: 'printf "a\\nb\\n"', exit: 0, stdout: { matches: 'a.b' } },
    status: 'failed',
    message: /no stdout line matches: a\.b/,
  },
  { test: { name: 'no line in empty output', command: 'true', exit: 0, stdout: { matches: '^$' } }, status: 'failed', message: /no stdout line matches/ },
  { test: { name: 'contains spans lines', command: 'printf "a\\nb\\n"', exit: 0, stdout: { contains: 'a\nb' } }, status: 'passed' },
  { test: { name: 'stderr contains', command: 'echo warn >&2', exit: 0, stderr: { contains: 'warn' } }, status: 'passed' },
  { test: { name: 'stderr mismatch', command: 'echo x >&2', exit: 0, stderr: { matches: '^y' } }, status: 'failed', message: /no stderr line matches/ },
  { test: { name: 'env for the command', command: 'test "$GREETING" = hello', exit: 0, env: { GREETING: 'hello' } }, status: 'passed' },
  { test: { name: 'multi-line command', command: "a='it''s'\nif [ \"$a\" = its ]; then echo ok; fi", exit: 0, stdout: { contains: 'ok' } }, status: 'passed' },
  {
    test: { name: 'nasty output', command: `printf '%s' '${NASTY.replace(/'/g, `'\\''`)}'`, exit: 0 },
    status: 'passed',
    output: NASTY.replace(/[\r\u0007]/g, ''),
  },
  { test: { name: 'file exists', file: join(dir, 'present'), exists: true }, status: 'passed' },
  { test: { name: 'file mode', file: join(dir, 'present'), exists: true, mode: '0640' }, status: 'passed' },
  {
    test: { name: 'file wrong mode', file: join(dir, 'present'), exists: true, mode: '755' },
    status: 'failed',
    message: /exit code 1/,
    output: `${join(dir, 'present')} has mode 640, expected 755`,
  },
  { test: { name: 'file missing', file: join(dir, 'absent'), exists: true }, status: 'failed', output: `${join(dir, 'absent')} does not exist` },
  { test: { name: 'file absent as wanted', file: join(dir, 'absent'), exists: false }, status: 'passed' },
  { test: { name: 'env equals', 'env-equals': { FACTORY_T_A: 'one' } }, status: 'passed' },
  {
    test: { name: 'env differs', 'env-equals': { FACTORY_T_A: 'two', FACTORY_T_UNSET: 'x' } },
    status: 'failed',
    output: 'FACTORY_T_A=one, expected two\nFACTORY_T_UNSET is not set, expected x',
  },
  { test: { name: 'runs as me', 'runs-as': me }, status: 'passed', exitCode: 'absent' },
  { test: { name: 'runs as other', 'runs-as': 'nobody-else' }, status: 'failed', message: new RegExp(`the image runs as ${me}, expected nobody-else`) },
  { test: { name: 'label ok', label: { 'org.example.team': 'platform' } }, status: 'passed' },
  {
    test: { name: 'label wrong', label: { 'org.example.team': 'apps', 'org.example.missing': 'x' } },
    status: 'failed',
    message: /org\.example\.missing is not set.*org\.example\.team="platform", expected "apps"/,
  },
  { test: { name: 'label at build time', label: { 'org.opencontainers.image.revision': 'abc' } }, status: 'failed', message: /set at build time/ },
  {
    test: { name: 'gpu only', command: 'nvidia-smi', exit: 0, skip: { accelerator: ['cpu'], reason: 'no GPU on CPU runners' } },
    status: 'skipped',
    message: /no GPU on CPU runners/,
  },
  { test: { name: 'skip on cuda only', command: 'true', exit: 0, skip: { accelerator: ['cuda'], reason: 'n/a' } }, status: 'passed' },
  {
    test: { name: 'always skipped', command: 'false', exit: 0, skip: { reason: 'upstream mirror is flaky' } },
    status: 'skipped',
    message: /^skipped: upstream mirror is flaky$/,
    exitCode: 'absent',
  },
  { test: { name: 'as another user', command: 'id -un', exit: 0, user: 'no-such-user-here' }, status: 'failed', message: /exit code/ },
];
const cases: TestCase[] = rows.map((r, i) => ({
  test: r.test,
  origin: i % 2 ? 'python@1.0.0' : 'py-app@1.0.0',
  source: { file: i % 2 ? 'fragments/python/1.0.0/fragment.yaml' : 'manifests/py-app.yaml', line: 10 + i },
}));
const runner = generateRunner(cases, {
  subject: 'py-app@1.0.0:python3.11 (linux/amd64) "quoted"',
  accelerator: 'cpu',
  labels: { 'org.example.team': 'platform', 'org.opencontainers.image.revision': '' },
  dynamicLabels: ['org.opencontainers.image.revision'],
});

const shells = [['dash'], ['busybox', 'sh']].filter(([bin]) => existsSync(`/usr/bin/${bin}`) || existsSync(`/bin/${bin}`));

describe('generated test runner', () => {
  it('passes shellcheck as POSIX sh', () => {
    if (!existsSync('/usr/bin/shellcheck')) return expect.soft(true, 'shellcheck not installed').toBe(true);
    const file = join(dir, 'lint.sh');
    writeFileSync(file, runner);
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', file, LIB], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(shells.length === 0).each(shells.map((s) => [s.join(' '), s] as const))('runs on %s and records every result', (_label, shell) => {
    const out = join(dir, `${shell[0]}-out`);
    const userFile = join(dir, 'image-user');
    writeFileSync(userFile, `${me}\n`);
    const file = join(dir, 'run.sh');
    writeFileSync(file, runner);
    const env = {
      ...process.env,
      FACTORY_TEST_OUT: out,
      FACTORY_TEST_WORK: join(dir, `${shell[0]}-work`),
      FACTORY_IMAGE_USER_FILE: userFile,
      FACTORY_T_A: 'one',
    };
    const run = spawnSync(shell[0]!, [...shell.slice(1), file], { env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0); // never fails itself
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.version).toBe(1);
    expect(results.subject).toBe('py-app@1.0.0:python3.11 (linux/amd64) "quoted"');
    expect(results.tests).toHaveLength(rows.length);
    rows.forEach((row, i) => {
      const r = results.tests[i];
      const label = `${row.test.name}: ${JSON.stringify(r)}`;
      expect(r.name, label).toBe(row.test.name);
      expect(r.origin, label).toBe(cases[i]!.origin);
      expect(r.status, label).toBe(row.status);
      expect(typeof r.durationMs, label).toBe('number');
      if (row.message) expect(r.message, label).toMatch(row.message);
      if (row.status === 'passed') expect(r.message, label).toBe('');
      if (row.output !== undefined) expect(r.output.trimEnd(), label).toBe(row.output);
      if (row.exitCode === 'absent') expect(r, label).not.toHaveProperty('exitCode');
      else if (row.exitCode !== undefined) expect(r.exitCode, label).toBe(row.exitCode);
      expect(r.source, label).toEqual(cases[i]!.source);
    });
    const count = (s: string) => rows.filter((r) => r.status === s).length;
    expect(results.summary).toEqual({ passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: rows.length });
    expect(readFileSync(join(out, 'summary'), 'utf8')).toBe(
      `passed=${count('passed')}\nfailed=${count('failed')}\nskipped=${count('skipped')}\ntotal=${rows.length}\n`,
    );

    // The action's reader (src/action/test-results.ts) takes the file as it is.
    const read = parseResults(readFileSync(join(out, 'results.json'), 'utf8'), 'results.json');
    expect(read[1]).toMatchObject({
      name: 'wrong exit',
      suite: 'python@1.0.0',
      status: 'failed',
      exitCode: 3,
      source: { file: 'fragments/python/1.0.0/fragment.yaml', line: 11 },
    });

    // --verdict: non-zero because tests failed, listing them.
    const verdict = spawnSync(shell[0]!, [...shell.slice(1), file, '--verdict'], { env, encoding: 'utf8' });
    expect(verdict.status).toBe(1);
    expect(verdict.stdout).toContain(`${count('failed')} failed`);
    expect(verdict.stderr).toContain('wrong exit: exit code 3, expected 0');
  });

  it.skipIf(shells.length === 0)('with no failures the verdict passes, and an empty test list is valid JSON', () => {
    for (const list of [[], [cases[0]!]]) {
      const out = join(dir, `ok-${list.length}`);
      const file = join(dir, `ok-${list.length}.sh`);
      writeFileSync(file, generateRunner(list, { subject: 's', accelerator: 'cpu' }));
      const env = { ...process.env, FACTORY_TEST_OUT: out, FACTORY_TEST_WORK: join(dir, `ok-work-${list.length}`) };
      execFileSync(shells[0]![0]!, [...shells[0]!.slice(1), file], { env });
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(results.tests).toHaveLength(list.length);
      expect(spawnSync(shells[0]![0]!, [...shells[0]!.slice(1), file, '--verdict'], { env }).status).toBe(0);
    }
  });

  it.skipIf(shells.length === 0)('skips label tests where the image carries no factory labels (isolated tests)', () => {
    const file = join(dir, 'isolated.sh');
    const out = join(dir, 'isolated-out');
    writeFileSync(
      file,
      generateRunner([{ test: { name: 'team', label: { 'org.example.team': 'x' } }, origin: 'f@1.0.0' }], {
        subject: 'f@1.0.0 (isolated)',
        accelerator: 'cpu',
      }),
    );
    execFileSync(shells[0]![0]!, [...shells[0]!.slice(1), file], {
      env: { ...process.env, FACTORY_TEST_OUT: out, FACTORY_TEST_WORK: join(dir, 'isolated-work') },
    });
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).tests[0]).toMatchObject({ status: 'skipped', message: /combined test/ });
  });

  it.skipIf(shells.length === 0).each([
    { where: 'cpu', status: ['skipped', 'passed'] },
    { where: 'cuda', status: ['passed', 'skipped'] },
  ])('decides accelerator skips where the tests run ($where)', ({ where, status }) => {
    // The same runner (a CUDA image's) skips GPU checks on a CPU builder and runs them on a GPU one.
    const file = join(dir, `accel-${where}.sh`);
    const out = join(dir, `accel-${where}-out`);
    const list = [
      { test: { name: 'needs a gpu', command: 'true', exit: 0, skip: { accelerator: ['cpu' as const], reason: 'no GPU here' } }, origin: 'cuda-env@1.0.0' },
      { test: { name: 'cpu only', command: 'true', exit: 0, skip: { accelerator: ['cuda' as const], reason: 'cpu check' } }, origin: 'cuda-env@1.0.0' },
    ];
    writeFileSync(file, generateRunner(list, { subject: 'cuda image', accelerator: 'cuda' }));
    const env = { ...process.env, FACTORY_TEST_OUT: out, FACTORY_TEST_WORK: join(dir, `accel-${where}-work`), FACTORY_TEST_ACCELERATOR: where };
    execFileSync(shells[0]![0]!, [...shells[0]!.slice(1), file], { env });
    const tests = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).tests as { status: string; message: string }[];
    expect(tests.map((t) => t.status)).toEqual(status);
    expect(tests.find((t) => t.status === 'skipped')!.message).toMatch(/^skipped: (no GPU here|cpu check)$/);
  });

  // A pool with a device passes FACTORY_TEST_POOL* (bake args); the runner looks for the NVIDIA
  // node (FACTORY_TEST_NVIDIA_NODE points it at a file here, /dev/nvidiactl in an image).
  it.skipIf(shells.length === 0).each([
    { where: 'GPU pool, device seen', pool: 'gpu', node: 'present', status: ['passed', 'skipped'], accelerator: 'cuda' },
    { where: 'GPU pool, no device', pool: 'gpu', node: 'absent', status: ['failed', 'passed'], accelerator: 'cpu' },
    { where: 'no pool promise, no device', pool: '', node: 'absent', status: ['skipped', 'passed'], accelerator: 'cpu' },
  ])('fails, not skips, a GPU check on a pool that promises the GPU and shows none ($where)', ({ where, pool, node, status, accelerator }) => {
    const tag = where.replace(/\W+/g, '-');
    const file = join(dir, `pool-${tag}.sh`);
    const out = join(dir, `pool-${tag}-out`);
    const list = [
      { test: { name: 'needs a gpu', command: 'true', exit: 0, skip: { accelerator: ['cpu' as const], reason: 'no GPU here' } }, origin: 'cuda-env@1.0.0' },
      { test: { name: 'cpu only', command: 'true', exit: 0, skip: { accelerator: ['cuda' as const], reason: 'cpu check' } }, origin: 'cuda-env@1.0.0' },
    ];
    writeFileSync(file, generateRunner(list, { subject: 'cuda image', accelerator: 'cuda' }));
    const promise = pool ? { FACTORY_TEST_POOL: pool, FACTORY_TEST_POOL_ACCELERATOR: 'cuda', FACTORY_TEST_DEVICE: 'nvidia.com/gpu=all' } : {};
    const env = {
      ...process.env,
      ...promise,
      FACTORY_TEST_OUT: out,
      FACTORY_TEST_WORK: join(dir, `pool-${tag}-work`),
      FACTORY_TEST_NVIDIA_NODE: join(dir, node),
    };
    execFileSync(shells[0]![0]!, [...shells[0]!.slice(1), file], { env });
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.tests.map((t: { status: string }) => t.status)).toEqual(status);
    expect(results.environment).toEqual({ accelerator, pool, device: pool ? 'nvidia.com/gpu=all' : '' });
    const failed = results.tests.find((t: { status: string }) => t.status === 'failed');
    if (failed) {
      expect(failed.message).toMatch(/^pool gpu has accelerator cuda, but this test step sees no cuda device \(.*absent is missing\)/);
      expect(failed.message).toContain('no CDI spec for nvidia.com/gpu=all');
      expect(failed.message).toContain('NVIDIA driver');
      expect(failed.message).toContain('--allow device');
    }
    const skipped = results.tests.find((t: { status: string }) => t.status === 'skipped');
    if (skipped) expect(skipped.message).toMatch(/^skipped: (no GPU here|cpu check)$/);
  });

  it('is deterministic', () => {
    expect(
      generateRunner(cases, {
        subject: 'py-app@1.0.0:python3.11 (linux/amd64) "quoted"',
        accelerator: 'cpu',
        labels: { 'org.example.team': 'platform', 'org.opencontainers.image.revision': '' },
        dynamicLabels: ['org.opencontainers.image.revision'],
      }),
    ).toBe(runner);
  });
});

describe('runner library', () => {
  const source = readFileSync(new URL('../../generators/sh/factory-test-lib.sh', import.meta.url), 'utf8');

  it('is generated byte for byte from generators/sh/factory-test-lib.sh', () => {
    expect(generateRunnerLib()).toBe(source);
    expect(readFileSync(new URL(`../../${RUNNER_LIB_PATH}`, import.meta.url), 'utf8')).toBe(source);
  });

  it('passes shellcheck as POSIX sh, style findings included', () => {
    if (!existsSync('/usr/bin/shellcheck')) return expect.soft(true, 'shellcheck not installed').toBe(true);
    const r = spawnSync('shellcheck', ['-s', 'sh', fileURLToPath(new URL('../../generators/sh/factory-test-lib.sh', import.meta.url))], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('stops a test after TEST_TIMEOUT_S', () => {
    expect(source).toContain(`_f_timeout="timeout ${TEST_TIMEOUT_S}"`);
  });
});

describe('testStages', () => {
  it('runs the runner on the image, exports results from scratch, and has a verdict stage', () => {
    const text = testStages('factory-image-under-test', 'build/p/1.0.0/default/test/run.sh');
    const froms = text.split('\n').filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual(['FROM factory-image-under-test AS test-run', 'FROM scratch AS test-results', 'FROM test-run AS test-verdict']);
    expect(text).toContain('COPY --chmod=0755 build/p/1.0.0/default/test/run.sh /factory-test/run.sh');
    expect(text).toContain('COPY --chmod=0755 build/factory-test-lib.sh /factory-test/lib.sh');
    expect(text).toContain('COPY --from=test-run /factory-test/out/ /');
    expect(text).not.toContain('--device');
    expect(text).not.toContain('FACTORY_TEST_POOL');
  });

  it("requests the pools' CDI devices, optional ones, and declares the pool args, only when there are devices", () => {
    const text = testStages('final', 'build/f/run.sh', ['factory.test/gpu=0', 'nvidia.com/gpu=all']);
    expect(text).toContain('RUN --device=factory.test/gpu=0 --device=nvidia.com/gpu=all ["/bin/sh", "/factory-test/run.sh"]\n');
    for (const a of POOL_TEST_ARGS) expect(text).toContain(`ARG ${a}=''\n`);
    // The verdict needs no device: it reads the summary.
    expect(text).toContain('RUN ["/bin/sh", "/factory-test/run.sh", "--verdict"]');
  });
});

describe('pool test args', () => {
  const pool = {
    kind: 'Pool',
    name: 'gpu',
    platform: 'linux/amd64',
    accelerator: 'cuda',
    'runs-on': 'gpu',
    'self-hosted': true,
    'max-parallel': 1,
    'timeout-minutes': 60,
    retries: 0,
    cache: 'local',
  } as const;
  it('are the pool, its accelerator and its device; none for a pool without a device', () => {
    expect(poolTestArgs({ ...pool, device: 'nvidia.com/gpu=all' })).toEqual([
      ['FACTORY_TEST_POOL', 'gpu'],
      ['FACTORY_TEST_POOL_ACCELERATOR', 'cuda'],
      ['FACTORY_TEST_DEVICE', 'nvidia.com/gpu=all'],
    ]);
    expect(poolTestArgs(pool)).toBeUndefined();
    expect(testDevices([{ ...pool, device: 'b.com/x=1' }, pool, { ...pool, device: 'a.com/y=all' }, { ...pool, device: 'b.com/x=1' }])).toEqual([
      'a.com/y=all',
      'b.com/x=1',
    ]);
  });
});

describe('dockerfileUser', () => {
  it.each([
    ['FROM a AS b\nUSER app\nRUN x\nFROM b AS final\nUSER svc:svc\n', 'svc'],
    ['FROM a\nRUN x\n', ''],
    ['FROM a\nUSER 1000\n', '1000'],
    ['FROM a\nUSER ${APP_USER}\n', ''],
  ])('%j -> %j', (text, user) => {
    expect(dockerfileUser(text)).toBe(user);
  });

  it.skipIf(shells.length === 0)('the Dockerfile user wins over the probe', () => {
    const file = join(dir, 'static-user.sh');
    const out = join(dir, 'static-user-out');
    writeFileSync(
      file,
      generateRunner([{ test: { name: 'who', 'runs-as': 'declared' }, origin: 'p@1.0.0' }], { subject: 's', accelerator: 'cpu', imageUser: 'declared' }),
    );
    writeFileSync(join(dir, 'probe'), 'probed\n');
    const env = { ...process.env, FACTORY_TEST_OUT: out, FACTORY_TEST_WORK: join(dir, 'static-user-work'), FACTORY_IMAGE_USER_FILE: join(dir, 'probe') };
    execFileSync(shells[0]![0]!, [...shells[0]!.slice(1), file], { env });
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).tests[0].status).toBe('passed');
  });
});
