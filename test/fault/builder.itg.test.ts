// Fault: the buildkitd dies in the middle of a build step. Private builder and registry
// (daemons.ts), dist/index.js as a runner runs it. What the user must get: an infrastructure
// failure (retried; no error report blaming the Dockerfile), one record, and tags only on an
// image that was built and pushed whole.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord } from '../../src/core/record.js';
import { imageWorkspace, missingSandbox, privateBuilder, privateRegistry, recordFiles, startAction, until, type Builder, type Registry } from './daemons.js';

const missing = missingSandbox();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-fault-builder-'));
let registry: Registry;
let builder: Builder;

beforeAll(async () => {
  if (missing) return;
  registry = await privateRegistry(root);
  builder = privateBuilder(root, `fb${process.pid}`, registry.addr);
}, 120_000);
afterAll(async () => {
  try {
    builder?.stop();
  } finally {
    await registry?.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** True once BuildKit reports the RUN step started (the rawjson progress the action captures). */
function runStepStarted(temp: string, target: string): boolean {
  const file = path.join(temp, 'factory-evidence', `${target}-900-1`, 'build.rawjson.log');
  return fs.existsSync(file) && /"name":"\[2\/2\] RUN (?:[^"\\]|\\.)*","started":/.test(fs.readFileSync(file, 'utf8'));
}

const inputs = (target: string, retries: string) => ({
  target,
  push: 'true',
  sbom: 'false',
  cache: 'none',
  tests: 'none',
  evidence: 'false',
  retries,
  'key-tag': `bk-${target}`,
});

describe.skipIf(missing)(`buildkitd killed mid-build${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('retries on the restarted builder: passed on attempt 2, one record, the pushed image complete', async () => {
    const target = 'bkblip-amd64';
    const dir = path.join(root, 'blip-run');
    const ws = imageWorkspace(path.join(root, 'blip'), { target, registry: registry.addr, sleep: 5 });
    const run = startAction(dir, ws, inputs(target, '1'), { BUILDX_BUILDER: builder.name, FACTORY_RETRY_DELAY_MS: '3000' });
    await until(() => runStepStarted(path.join(dir, 'runner-temp'), target), 60_000, 'the RUN step to start');
    builder.kill();
    await until(() => /attempt 1 of 2 failed with no error in the inputs/.test(run.log()), 60_000, 'the action to see the failure');
    builder.start();
    const r = await run.done;

    expect(r.status, r.log).toBe(0);
    expect(r.log).toMatch(/::warning::attempt 1 of 2 failed with no error in the inputs \(.+\); trying again in 3s/);
    expect(r.outputs).toMatchObject({ result: 'passed', attempts: '2', 'error-report': '' });
    expect(recordFiles(ws)).toEqual([`records/fault/1.0.0/${target}.json`]);
    const record = parseRecord(fs.readFileSync(path.join(ws, 'records/fault/1.0.0', `${target}.json`), 'utf8'), 'record');
    expect(record).toMatchObject({ result: 'passed', attempts: 2, image: { pushed: true, digest: r.outputs.digest } });
    expect(await registry.manifest(`fault/${target}`, `bk-${target}`)).toBe(r.outputs.digest);
    // The first attempt's progress is kept as evidence of what happened.
    expect(fs.existsSync(path.join(r.temp, 'factory-evidence', `${target}-900-1`, 'attempt-1', 'build.rawjson.log'))).toBe(true);
  }, 180_000);

  it('no retries left: result error, a message about the builder, no error report, nothing tagged', async () => {
    const target = 'bkdown-amd64';
    const dir = path.join(root, 'down-run');
    const ws = imageWorkspace(path.join(root, 'down'), { target, registry: registry.addr, sleep: 30 });
    const run = startAction(dir, ws, inputs(target, '0'), { BUILDX_BUILDER: builder.name });
    await until(() => runStepStarted(path.join(dir, 'runner-temp'), target), 60_000, 'the RUN step to start');
    builder.kill();
    const r = await run.done;
    builder.start();

    expect(r.status).toBe(1);
    const error = r.log.split('\n').find((l) => l.startsWith('::error::'));
    expect(error, r.log).toMatch(
      /^::error::bkdown-amd64: step builder failed: the connection to the BuildKit builder was lost: .+; this is not a fault of the inputs: re-run the job, or let input `retries` retry it$/,
    );
    expect(r.outputs).toMatchObject({ result: 'error', 'error-report': '' });
    expect(recordFiles(ws)).toEqual([`records/fault/1.0.0/${target}.json`]);
    expect(await registry.tags(`fault/${target}`)).toEqual([]);
  }, 180_000);
});
