// Faults of the artifact service, with the real @actions/artifact client against the
// results-service stand-in (Twirp + Azurite) and `mode: record` from dist/index.js committing
// to a real bare repository: a name that already exists (409), a 500 before the service does
// anything, a 500 after it did the work (the answer was lost), a 500 on finalize and on list.
// What must hold: every record reaches the branch exactly once, the newest one per path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord } from '../../src/core/record.js';
import { startResultsService, type ResultsService } from '../action/results-service.js';
import { clone, git, historyEntries, origin, recordFiles, recordMode, recordOf, recordRel, uploadRecord } from './records.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-fault-artifacts-'));
let svc: ResultsService;
const saved = { url: process.env.ACTIONS_RESULTS_URL, token: process.env.ACTIONS_RUNTIME_TOKEN };
beforeAll(async () => {
  svc = await startResultsService();
}, 60_000);
afterAll(async () => {
  process.env.ACTIONS_RESULTS_URL = saved.url;
  process.env.ACTIONS_RUNTIME_TOKEN = saved.token;
  await svc?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const finalized = (run: string) =>
  svc.artifacts
    .filter((a) => a.runBackendId === run && a.finalized)
    .map((a) => a.name)
    .sort();

/** Runs mode: record for `run` into a fresh clone of a fresh origin; returns the run and a checkout of the branch after it. */
async function recordInto(run: string) {
  const bare = origin(root, `origin-${run}`);
  const r = await recordMode(svc, run, path.join(root, `rec-${run}`), clone(bare, path.join(root, `ws-${run}`)));
  const check = clone(bare, path.join(root, `check-${run}`));
  return { r, check };
}

describe('artifact service faults', () => {
  it('409, a name already taken in the run attempt (a second step for the same target): uploaded as name-2, the newer record lands once', async () => {
    const run = 'run-409';
    const first = recordOf('dup-amd64', '409', '1', '2026-11-24T01:00:00.000Z');
    const second = { ...first, result: 'failed' as const, finishedAt: '2026-11-24T01:10:00.000Z' };
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-409-a'), first);
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-409-b'), second);
    expect(finalized(run)).toEqual(['record-dup-amd64-linux-amd64-attempt1', 'record-dup-amd64-linux-amd64-attempt1-2']);

    const { r, check } = await recordInto(run);
    expect(r.status, r.log).toBe(0);
    expect(r.outputs).toMatchObject({ result: 'committed', records: JSON.stringify([recordRel(first)]) });
    expect(parseRecord(fs.readFileSync(path.join(check, recordRel(first)), 'utf8'), 'r').finishedAt).toBe(second.finishedAt);
    expect(git(check, 'log', '--diff-filter=A', '--name-only', '--format=', 'main', '--', 'records', ':!records/history').split('\n').filter(Boolean)).toEqual([
      recordRel(first),
    ]);
  });

  it('500 before anything is stored, then 200: the client retries, one artifact, the record lands', async () => {
    const run = 'run-500';
    svc.faults.push({ method: 'CreateArtifact', status: 500, times: 1 });
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-500'), recordOf('five-amd64', '500', '1', '2026-11-24T01:00:00.000Z'));
    expect(svc.artifacts.filter((a) => a.runBackendId === run).map((a) => [a.name, a.finalized])).toEqual([['record-five-amd64-linux-amd64-attempt1', true]]);
    const { r, check } = await recordInto(run);
    expect(r.status, r.log).toBe(0);
    expect(fs.existsSync(path.join(check, 'records/llm-runtime/1.4.0/five-amd64.json'))).toBe(true);
  });

  it('500 after the service stored the artifact (answer lost), then 409 on the retry: uploaded as name-2, nothing lost or doubled', async () => {
    const run = 'run-lost';
    svc.faults.push({ method: 'CreateArtifact', status: 500, afterHandling: true, times: 1 });
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-lost'), recordOf('lost-amd64', '501', '1', '2026-11-24T01:00:00.000Z'));
    // The first artifact was created but never finalized: invisible to list and download.
    expect(svc.artifacts.filter((a) => a.runBackendId === run).map((a) => [a.name, a.finalized])).toEqual([
      ['record-lost-amd64-linux-amd64-attempt1', false],
      ['record-lost-amd64-linux-amd64-attempt1-2', true],
    ]);
    const { r, check } = await recordInto(run);
    expect(r.status, r.log).toBe(0);
    expect(recordFiles(check)).toEqual(['records/llm-runtime/1.4.0/lost-amd64.json']);
    expect(historyEntries(check)).toEqual(['lost-amd64 501']);
  });

  it("500 on finalize and on the record job's list, then 200: retried, the record lands", async () => {
    const run = 'run-fin';
    svc.faults.push({ method: 'FinalizeArtifact', status: 500, times: 1 });
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-fin'), recordOf('fin-amd64', '502', '1', '2026-11-24T01:00:00.000Z'));
    expect(finalized(run)).toEqual(['record-fin-amd64-linux-amd64-attempt1']);
    svc.faults.push({ method: 'ListArtifacts', status: 500, times: 1 });
    const { r, check } = await recordInto(run);
    expect(r.status, r.log).toBe(0);
    expect(r.log).toMatch(/Attempt 1 of 5 failed with error: Failed request: \(500\)/);
    expect(recordFiles(check)).toEqual(['records/llm-runtime/1.4.0/fin-amd64.json']);
    expect(historyEntries(check)).toEqual(['fin-amd64 502']);
  });

  it('an artifact service that keeps failing: the record job fails with one message, the branch is untouched', async () => {
    const run = 'run-down';
    await uploadRecord(svc, run, 'job', path.join(root, 'leg-down'), recordOf('down-amd64', '503', '1', '2026-11-24T01:00:00.000Z'));
    svc.faults.push({ method: 'ListArtifacts', status: 503, times: 5 });
    const { r, check } = await recordInto(run);
    expect(r.status).toBe(1);
    expect(r.log).toMatch(/^::error::.*Failed to make request after 5 attempts: Failed request: \(503\)/m);
    expect(git(check, 'ls-files', 'records')).toBe('');
    expect(historyEntries(check)).toEqual([]);
  }, 120_000);
});
