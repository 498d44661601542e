// Fault: the runner cancels the action (SIGTERM, or SIGINT as for Ctrl-C / the first signal of a
// cancelled job) after the image is built and pushed, while the record artifact is being
// uploaded. Private builder and registry (daemons.ts), results-service stand-in for artifacts,
// dist/index.js as a runner runs it. What must hold: one message saying where it stopped; no
// build key on an image whose record is not uploaded (a keyed image is never built again, so
// its record would be lost for good); and the re-run records it exactly once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startResultsService, type ResultsService } from '../action/results-service.js';
import { imageWorkspace, missingSandbox, privateBuilder, privateRegistry, startAction, until, type Builder, type Registry } from './daemons.js';
import { clone, historyEntries, origin, recordFiles, recordMode } from './records.js';

const missing = missingSandbox();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-fault-cancel-'));
let registry: Registry;
let builder: Builder;
let svc: ResultsService;

beforeAll(async () => {
  if (missing) return;
  svc = await startResultsService();
  registry = await privateRegistry(root);
  builder = privateBuilder(root, `fc${process.pid}`, registry.addr);
}, 120_000);
afterAll(async () => {
  try {
    builder?.stop();
  } finally {
    await registry?.kill();
    await svc?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

describe.skipIf(missing)(`the action cancelled between image build and record upload${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: a clear message, no build key, no record artifact; the re-run records it once',
    async (signal) => {
      const target = `cancel${signal.toLowerCase()}-amd64`;
      const run = `run-${signal}`;
      const ws = imageWorkspace(path.join(root, `ws-${signal}`), { target, registry: registry.addr });
      const inputs = { target, push: 'true', sbom: 'false', cache: 'none', tests: 'none', 'key-tag': `bk-${target}` };
      const env = (attempt: string) => ({
        BUILDX_BUILDER: builder.name,
        GITHUB_RUN_ATTEMPT: attempt,
        ACTIONS_RESULTS_URL: svc.url,
        ACTIONS_RUNTIME_TOKEN: svc.token(run, 'build'),
      });

      // The service holds the record upload's first request; the runner cancels meanwhile.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let arrived!: () => void;
      const uploading = new Promise<void>((r) => (arrived = r));
      svc.faults.push({ method: 'CreateArtifact', name: /^record-/, times: 1, hold: () => (arrived(), released) });
      const first = startAction(path.join(root, `first-${signal}`), ws, inputs, env('1'));
      await uploading;
      first.child.kill(signal);
      const r1 = await first.done;
      release();

      expect(r1.status).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(r1.log).toMatch(
        new RegExp(
          `^::error::cancelled \\(${signal}\\) while uploading the records \\(the build key is not tagged yet\\); nothing was recorded half-way: re-run the job`,
          'm',
        ),
      );
      // The image is pushed under its release tag, but not keyed: the next plan builds it again.
      const digest = await registry.manifest(`fault/${target}`, '1.0.0-amd64');
      expect(digest).toMatch(/^sha256:/);
      expect(await registry.tags(`fault/${target}`)).toEqual(['1.0.0-amd64']);
      expect(svc.artifacts.filter((a) => a.runBackendId === run && a.finalized)).toEqual([]);

      // The re-run (attempt 2) finishes: key tagged after its record is up.
      const r2 = await startAction(path.join(root, `second-${signal}`), ws, inputs, env('2')).done;
      expect(r2.status, r2.log).toBe(0);
      expect(await registry.tags(`fault/${target}`)).toEqual([`1.0.0-amd64`, `bk-${target}`].sort());
      expect(
        svc.artifacts
          .filter((a) => a.runBackendId === run && a.finalized)
          .map((a) => a.name)
          .sort(),
      ).toEqual([`evidence-${target}-linux-amd64-attempt2`, `record-${target}-linux-amd64-attempt2`]);

      // The record job of the run commits exactly that one record.
      const bare = origin(root, `origin-${signal}`);
      const rec = await recordMode(svc, run, path.join(root, `rec-${signal}`), clone(bare, path.join(root, `recws-${signal}`)));
      expect(rec.status, rec.log).toBe(0);
      const check = clone(bare, path.join(root, `check-${signal}`));
      expect(recordFiles(check)).toEqual([`records/fault/1.0.0/${target}.json`]);
      expect(historyEntries(check)).toHaveLength(1);
    },
    120_000,
  );

  it('SIGTERM in the middle of a build step: the bake is stopped too, nothing is pushed or recorded', async () => {
    const target = 'cancelbuild-amd64';
    const dir = path.join(root, 'mid-build');
    const ws = imageWorkspace(path.join(root, 'ws-mid-build'), { target, registry: registry.addr, sleep: 60 });
    const run = startAction(
      dir,
      ws,
      { target, push: 'true', sbom: 'false', cache: 'none', tests: 'none', 'key-tag': `bk-${target}` },
      {
        BUILDX_BUILDER: builder.name,
        ACTIONS_RESULTS_URL: svc.url,
        ACTIONS_RUNTIME_TOKEN: svc.token('run-mid-build', 'build'),
      },
    );
    const rawjson = path.join(dir, 'runner-temp', 'factory-evidence', `${target}-900-1`, 'build.rawjson.log');
    await until(
      () => fs.existsSync(rawjson) && /"name":"\[2\/2\] RUN (?:[^"\\]|\\.)*","started":/.test(fs.readFileSync(rawjson, 'utf8')),
      60_000,
      'the RUN step to start',
    );
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.status).toBe(143);
    expect(r.log).toMatch(/^::error::cancelled \(SIGTERM\) while building the images \(attempt 1\); nothing was recorded half-way/m);
    // No buildx of this job is left running (it would go on and push for a job that is over).
    const bakes = () =>
      fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(rawjson.replace('build.rawjson.log', 'bake-metadata.json'));
          } catch {
            return false;
          }
        });
    await until(() => bakes().length === 0, 10_000, 'the cancelled bake to exit');
    expect(fs.existsSync(path.join(ws, 'records'))).toBe(false);
    expect(await registry.tags(`fault/${target}`)).toEqual([]);
    expect(svc.artifacts.filter((a) => a.runBackendId === 'run-mid-build')).toEqual([]);
  }, 120_000);
});
