// Evidence and record artifacts through the real @actions/artifact client against the local
// results-service stand-in (Twirp + Azurite); then `mode: record` run from dist/ as a runner
// would, downloading them and committing to a real bare repository.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactName, downloadByPrefix, listFiles, upload } from '../../src/action/artifact.js';
import { parseRecord, serializeRecord } from '../../src/core/record.js';
import { parseHistory } from '../../src/obs/history.js';
import { restoreEnvAfterEach, setEnv } from './env.js';
import { startResultsService, type ResultsService } from './results-service.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-artifacts-'));
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
let svc: ResultsService;
beforeAll(async () => {
  svc = await startResultsService();
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});
restoreEnvAfterEach();

function evidenceDir(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'sbom'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'build.rawjson.log'), '{"vertexes":[]}\n'.repeat(2000));
  fs.writeFileSync(path.join(dir, 'sbom', 't-amd64.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [{ name: 'busybox' }] }));
  return dir;
}

describe('evidence upload', () => {
  it('uploads a directory and downloads the same bytes back', async () => {
    setEnv({ ACTIONS_RESULTS_URL: svc.url, ACTIONS_RUNTIME_TOKEN: svc.token('run-1', 'job-1') });
    const dir = evidenceDir('ev1');
    const name = artifactName('evidence', 't-amd64', 'linux/amd64', { runAttempt: '1' });
    expect(name).toBe('evidence-t-amd64-linux-amd64-attempt1');
    const id = await upload(name, listFiles(dir), dir, 3);
    const stored = svc.artifacts.find((a) => a.id === id)!;
    expect(stored).toMatchObject({ name, finalized: true, runBackendId: 'run-1', jobBackendId: 'job-1' });
    expect(stored.size).toBeGreaterThan(0);
    // retentionDays became an expiry about 3 days out.
    const days = (Date.parse(stored.retentionExpiresAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThan(3.1);

    const got = await downloadByPrefix('evidence', path.join(root, 'dl1'));
    expect(got.map((g) => g.name)).toEqual([name]);
    for (const f of listFiles(dir)) {
      expect(fs.readFileSync(path.join(got[0]!.dir, path.relative(dir, f)))).toEqual(fs.readFileSync(f));
    }
  });

  it('uploads a second artifact of a taken name (409) as name-2, and a re-run attempt under its own name', async () => {
    setEnv({ ACTIONS_RESULTS_URL: svc.url, ACTIONS_RUNTIME_TOKEN: svc.token('run-2', 'job-1') });
    const dir = evidenceDir('ev2');
    const files = listFiles(dir);
    await upload(artifactName('evidence', 't-amd64', 'linux/amd64', { runAttempt: '1' }), files, dir);
    const second = await upload(artifactName('evidence', 't-amd64', 'linux/amd64', { runAttempt: '1' }), files, dir);
    expect(svc.artifacts.find((a) => a.id === second)).toMatchObject({ name: 'evidence-t-amd64-linux-amd64-attempt1-2', finalized: true });
    // The re-run (attempt 2) of the same job names its artifact apart and succeeds.
    setEnv({ ACTIONS_RUNTIME_TOKEN: svc.token('run-2', 'job-2') });
    await expect(upload(artifactName('evidence', 't-amd64', 'linux/amd64', { runAttempt: '2' }), files, dir)).resolves.toBeGreaterThan(0);
  });
});

describe('mode: record from dist/index.js', () => {
  it("downloads the run's record artifacts and commits them in one commit; refuses on pull_request", async () => {
    const run = 'run-rec';
    setEnv({ ACTIONS_RESULTS_URL: svc.url, ACTIONS_RUNTIME_TOKEN: svc.token(run, 'build-job') });
    const base = parseRecord(fs.readFileSync(new URL('fixtures/records/passed.json', import.meta.url), 'utf8'), 'passed.json');
    // Two build jobs upload their records the way build mode does (workdir as root).
    for (const [t, attempt] of [
      ['a-amd64', '1'],
      ['a-arm64', '1'],
      ['a-arm64', '2'],
    ] as const) {
      const work = path.join(root, `job-${t}-${attempt}`);
      const rel = `records/llm-runtime/1.4.0/${t}.json`;
      fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
      const r = {
        ...base,
        target: t,
        result: attempt === '1' && t === 'a-arm64' ? ('failed' as const) : ('passed' as const),
        run: { ...base.run, id: '77', attempt },
      };
      fs.writeFileSync(path.join(work, rel), serializeRecord(r));
      await upload(artifactName('record', t, 'linux/amd64', { runAttempt: attempt }), [path.join(work, rel)], work);
    }
    // Noise that must be ignored: another run's record, evidence of this run.
    await upload(
      'evidence-a-amd64-linux-amd64-attempt1',
      [path.join(root, `job-a-amd64-1/records/llm-runtime/1.4.0/a-amd64.json`)],
      path.join(root, 'job-a-amd64-1'),
    );

    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
      }).trim();
    const bare = path.join(root, 'origin.git');
    git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    const ws = path.join(root, 'ws');
    git(root, 'clone', '--quiet', bare, ws);
    fs.writeFileSync(path.join(ws, 'README.md'), 'x\n');
    git(ws, 'add', '.');
    git(ws, 'commit', '--quiet', '-m', 'init');
    git(ws, 'push', '--quiet', 'origin', 'HEAD:main');

    // Asynchronous on purpose: the results service answers from this process's event loop.
    const runAction = (event: string) =>
      new Promise<{ status: number | null; stdout: string; outputs: string }>((resolve) => {
        const out = path.join(root, `out-${event}-${Date.now()}`);
        fs.writeFileSync(out, '');
        const child = spawn(process.execPath, [path.join(repoRoot, 'dist/index.js')], {
          env: {
            PATH: process.env.PATH,
            HOME: os.homedir(),
            ACTIONS_RESULTS_URL: svc.url,
            ACTIONS_RUNTIME_TOKEN: svc.token(run, 'record-job'),
            GITHUB_WORKSPACE: ws,
            GITHUB_EVENT_NAME: event,
            GITHUB_REF_NAME: 'main',
            GITHUB_RUN_ID: '77',
            GITHUB_RUN_ATTEMPT: '2',
            GITHUB_OUTPUT: out,
            INPUT_MODE: 'record',
            'INPUT_PUSH-RETRIES': '3',
          },
        });
        let stdout = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stdout += b.toString()));
        child.on('close', (status) => resolve({ status, stdout, outputs: fs.readFileSync(out, 'utf8') }));
      });

    const pr = await runAction('pull_request');
    expect(pr.status).toBe(0);
    expect(pr.stdout).toContain('::warning::mode: record does not push on pull_request events');
    expect(pr.outputs).toMatch(/^result<<(.+)\nskipped\n\1$/m);

    const push = await runAction('push');
    expect(push.stdout, push.stdout).not.toContain('::error::');
    if (process.env.DEBUG_ACTION) console.log(push.stdout);
    expect(push.status).toBe(0);
    expect(push.outputs).toMatch(/^result<<(.+)\ncommitted\n\1$/m);
    const check = path.join(root, 'check');
    git(root, 'clone', '--quiet', bare, check);
    expect(git(check, 'log', '--format=%s', '-1')).toBe('records: 2 target(s) from run 77 attempt 2 [skip ci]');
    const changed = git(check, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort();
    const history = changed.filter((f) => f.startsWith('records/history/'));
    expect(changed.filter((f) => !history.includes(f))).toEqual(['records/llm-runtime/1.4.0/a-amd64.json', 'records/llm-runtime/1.4.0/a-arm64.json']);
    // The history keeps every build, both attempts of a-arm64 included, in the same commit.
    expect(history).toHaveLength(1);
    const lines = parseHistory(fs.readFileSync(path.join(check, history[0]!), 'utf8'), history[0]!);
    expect(lines.problems).toEqual([]);
    expect(lines.records.map((r) => `${r.target}/${r.run.attempt}`).sort()).toEqual(['a-amd64/1', 'a-arm64/1', 'a-arm64/2'].sort());
    // Attempt 2 of a-arm64 replaced attempt 1: the re-run's result is the one recorded.
    const arm = parseRecord(fs.readFileSync(path.join(check, 'records/llm-runtime/1.4.0/a-arm64.json'), 'utf8'), 'a-arm64.json');
    expect(arm.run.attempt).toBe('2');
    expect(arm.result).toBe('passed');

    // Running the record job again changes nothing.
    const again = await runAction('push');
    expect(again.status).toBe(0);
    expect(again.outputs).toMatch(/^result<<(.+)\nunchanged\n\1$/m);
  });
});

describe('artifactName', () => {
  it.each([
    [{ runAttempt: '1', action: '__self' }, 'evidence-t-amd64-linux-amd64-attempt1'],
    [{ runAttempt: '1', action: 'attempt-1' }, 'evidence-t-amd64-linux-amd64-attempt1'],
    [{ runAttempt: '1', action: 'attempt-2' }, 'evidence-t-amd64-linux-amd64-attempt1-step2'],
    [{ runAttempt: '3', action: '__self_2' }, 'evidence-t-amd64-linux-amd64-attempt3-step2'],
  ])('%j', (ctx, want) => {
    expect(artifactName('evidence', 't-amd64', 'linux/amd64', ctx)).toBe(want);
  });
});
