// Fault: the registry dies while the action pushes. On a private registry and builder
// (daemons.ts), with dist/index.js run as a runner runs it. What the user must get: an
// infrastructure failure (retried, no error report), one record, and no tag (build key or
// release) on an image that was not fully pushed, so no manifest list can be made from it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobResult } from '../../src/core/job-result.js';
import { parseRecord } from '../../src/core/record.js';
import {
  imageWorkspace,
  missingSandbox,
  repo,
  privateBuilder,
  privateRegistry,
  recordFiles,
  startAction,
  until,
  type Builder,
  type Registry,
} from './daemons.js';

const missing = missingSandbox();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-fault-registry-'));
let registry: Registry;
let builder: Builder;
/** The workspaces of the two legs below, for the merge job. */
const legs: Record<string, string> = {};

beforeAll(async () => {
  if (missing) return;
  registry = await privateRegistry(root);
  builder = privateBuilder(root, `fr${process.pid}`, registry.addr);
}, 120_000);
afterAll(async () => {
  try {
    builder?.stop();
  } finally {
    await registry?.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** True once the registry has started receiving a blob upload of `repo`. */
function uploading(repo: string): boolean {
  const dir = path.join(registry.dataDir, 'docker/registry/v2/repositories', repo, '_uploads');
  return fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
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

function result(ws: string, target: string) {
  const r = parseJobResult(fs.readFileSync(path.join(ws, 'factory-result', `${target}.json`), 'utf8'), 'result');
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe.skipIf(missing)(`registry stopped mid-push${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('retries the push once the registry is back: passed on attempt 2, one record, the image and key tag complete', async () => {
    const target = 'regblip-amd64';
    const ws = imageWorkspace(path.join(root, 'blip'), { target, registry: registry.addr, megabytes: 64 });
    legs.blip = ws;
    const run = startAction(path.join(root, 'blip-run'), ws, inputs(target, '1'), { BUILDX_BUILDER: builder.name, FACTORY_RETRY_DELAY_MS: '3000' });
    await until(() => uploading(`fault/${target}`), 90_000, 'the push to start');
    await registry.kill();
    // Back while the action waits before its retry (it says so in the log).
    await until(() => /attempt 1 of 2 failed with no error in the inputs/.test(run.log()), 60_000, 'the action to see the failure');
    await registry.start();
    const r = await run.done;

    expect(r.status, r.log).toBe(0);
    expect(r.log).toMatch(
      /::warning::attempt 1 of 2 failed with no error in the inputs \(the registry could not be reached while pushing: .*\); trying again in 3s/,
    );
    expect(r.outputs).toMatchObject({ result: 'passed', attempts: '2', 'error-report': '' });
    expect(recordFiles(ws)).toEqual([`records/fault/1.0.0/${target}.json`]);
    const record = parseRecord(fs.readFileSync(path.join(ws, 'records/fault/1.0.0', `${target}.json`), 'utf8'), 'record');
    expect(record).toMatchObject({ result: 'passed', attempts: 2, image: { pushed: true, digest: r.outputs.digest } });
    // The pushed image is complete under its tag and the build key.
    expect(await registry.manifest(`fault/${target}`, '1.0.0-amd64')).toBe(r.outputs.digest);
    expect(await registry.manifest(`fault/${target}`, `bk-${target}`)).toBe(r.outputs.digest);
    expect(result(ws, target)).toMatchObject({ result: 'passed', digest: r.outputs.digest, keyTag: `bk-${target}` });
  }, 180_000);

  it('a registry that stays down: result error (infrastructure), no error report, no digest to publish, no tags', async () => {
    const target = 'regdown-amd64';
    const ws = imageWorkspace(path.join(root, 'down'), { target, registry: registry.addr, megabytes: 64 });
    legs.down = ws;
    const run = startAction(path.join(root, 'down-run'), ws, inputs(target, '0'), { BUILDX_BUILDER: builder.name });
    await until(() => uploading(`fault/${target}`), 90_000, 'the push to start');
    await registry.kill();
    const r = await run.done;
    await registry.start();

    expect(r.status).toBe(1);
    expect(r.log).toMatch(
      /^::error::regdown-amd64: step push failed: the registry could not be reached while pushing: .*check the registry address and that it is up/m,
    );
    expect(r.outputs).toMatchObject({ result: 'error', 'error-report': '' });
    // The leg's result says error and names no digest: the merge job publishes no list from it.
    const res = result(ws, target);
    expect(res.result).toBe('error');
    expect(res.digest).toBeUndefined();
    expect(res.keyTag).toBeUndefined();
    expect(recordFiles(ws)).toEqual([`records/fault/1.0.0/${target}.json`]);
    const record = parseRecord(fs.readFileSync(path.join(ws, 'records/fault/1.0.0', `${target}.json`), 'utf8'), 'record');
    expect(record).toMatchObject({ result: 'failed', image: { pushed: false }, failure: { step: 'push' } });
    expect(await registry.tags(`fault/${target}`)).toEqual([]);
  }, 180_000);

  it('the merge job (factory merge from the compiled CLI, real buildx) publishes no list with the failed leg in it', () => {
    const dir = path.join(root, 'merge');
    fs.mkdirSync(path.join(dir, 'results'), { recursive: true });
    for (const [leg, target] of [
      ['blip', 'regblip-amd64'],
      ['down', 'regdown-amd64'],
    ] as const) {
      fs.copyFileSync(path.join(legs[leg]!, 'factory-result', `${target}.json`), path.join(dir, 'results', `${target}.json`));
    }
    const source = (target: string, platform: string) => ({ target, platform, status: 'build', keyTag: `bk-${target}` });
    const merges = [
      { image: 'fault/regblip-amd64', tags: ['partial'], sources: [source('regblip-amd64', 'linux/amd64'), source('regdown-amd64', 'linux/arm64')] },
      { image: 'fault/regblip-amd64', tags: ['whole'], sources: [source('regblip-amd64', 'linux/amd64')] },
    ];
    const plan = { version: 1, registry: registry.addr, affected: [], removed: [], merges, summary: { targets: 2, affected: 2, build: 2, skipped: 0 } };
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    const cli = path.join(repo, 'bin/factory.js');
    const r = spawnSync(process.execPath, [cli, 'merge', '--plan', 'plan.json', '--results', 'results'], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: `${process.env.FACTORY_SANDBOX_BIN ?? '/usr/local/lib/factory-sandbox/bin'}:${process.env.PATH}`,
        HOME: process.env.HOME,
        GITHUB_ACTIONS: 'true',
        GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
      },
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(
      `::error title=factory merge refused::${registry.addr}/fault/regblip-amd64:partial is missing linux/arm64 (target regdown-amd64 hit an infrastructure error`,
    );
    // The whole list's one image is there, but nobody signed it (no signing here): refused too
    // (signed merges: test/supply/reuse.itg.test.ts).
    expect(r.stdout).toMatch(
      new RegExp(`::error title=factory merge refused::${registry.addr.replace(/[.]/g, '\\.')}/fault/regblip-amd64:whole: .*is not signed by a known signer`),
    );
    return registry.tags('fault/regblip-amd64').then((tags) => expect(tags).toEqual(['1.0.0-amd64', 'bk-regblip-amd64']));
  }, 60_000);
});
