// Fault: 8 record jobs (8 workflow runs finishing together) push to one branch at once. Each is
// `mode: record` from dist/index.js as its own process, with the defaults a workflow gets
// (push-retries 5), downloading its run's record artifacts from the results-service stand-in and
// pushing to one real bare repository. Two of the runs built the same target: the newer wins.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord } from '../../src/core/record.js';
import { startResultsService, type ResultsService } from '../action/results-service.js';
import { clone, git, historyEntries, origin, recordFiles, recordMode, recordOf, recordRel, uploadRecord } from './records.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-fault-pushers-'));
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

describe('8 concurrent record pushers on one branch', () => {
  it('every record lands exactly once, one commit per run, the newer of two same-target records wins', async () => {
    const bare = origin(root, 'origin');
    const runs = Array.from({ length: 8 }, (_, i) => `80${i}`);
    for (const [i, run] of runs.entries()) {
      for (const arch of ['amd64', 'arm64']) {
        await uploadRecord(
          svc,
          run,
          `build-${arch}`,
          path.join(root, `leg-${run}-${arch}`),
          recordOf(`p${i}-${arch}`, run, '1', `2026-11-24T02:0${i}:00.000Z`),
        );
      }
    }
    // Runs 806 and 807 also built the shared target; 807 finished later.
    await uploadRecord(svc, '806', 'build-shared', path.join(root, 'leg-806-shared'), recordOf('shared-amd64', '806', '1', '2026-11-24T03:00:00.000Z'));
    await uploadRecord(svc, '807', 'build-shared', path.join(root, 'leg-807-shared'), recordOf('shared-amd64', '807', '1', '2026-11-24T03:05:00.000Z'));

    const results = await Promise.all(runs.map((run) => recordMode(svc, run, path.join(root, `rec-${run}`), clone(bare, path.join(root, `ws-${run}`)))));
    for (const r of results) {
      expect(r.status, r.log).toBe(0);
      expect(r.outputs.result).toBe('committed');
    }
    // Concurrency really happened: some pusher found the branch moved and retried.
    expect(results.some((r) => /moved while pushing/.test(r.log))).toBe(true);

    const check = clone(bare, path.join(root, 'check'));
    const want = [...runs.flatMap((_, i) => [`p${i}-amd64`, `p${i}-arm64`]), 'shared-amd64'].map((t) => `records/llm-runtime/1.4.0/${t}.json`).sort();
    expect(recordFiles(check)).toEqual(want);
    // The history keeps every run's record, both of the shared target's included.
    const history = [...runs.flatMap((run, i) => [`p${i}-amd64 ${run}`, `p${i}-arm64 ${run}`]), 'shared-amd64 806', 'shared-amd64 807'].sort();
    expect(historyEntries(check)).toEqual(history);
    // Each record file was added once; one commit per run.
    const added = git(check, 'log', '--diff-filter=A', '--name-only', '--format=', 'main', '--', 'records', ':!records/history').split('\n').filter(Boolean);
    expect(added.sort()).toEqual(want);
    const subjects = git(check, 'log', '--format=%s', 'main')
      .split('\n')
      .filter((s) => s.startsWith('records:'));
    expect(subjects.map((s) => /from run (\d+)/.exec(s)![1]).sort()).toEqual(runs);
    const shared = parseRecord(fs.readFileSync(path.join(check, recordRel(recordOf('shared-amd64', '', '', ''))), 'utf8'), 'shared');
    expect(shared.run.id).toBe('807');
  }, 120_000);
});
