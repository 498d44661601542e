// `mode: record`: gather the records this run uploaded and commit them to the branch at once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { artifactsAvailable, downloadByPrefix, listFiles } from './artifact.js';
import { info, setPhase } from './console.js';
import { Outputs } from './constants.js';
import { ActionError } from './errors.js';
import { commitRecords, dedupe, type CommitOptions, type CommitResult, type RecordFile } from './git.js';
import { parseRecord } from '../core/record.js';
import { normalRecordsDir, recordPathProblem } from './record-paths.js';
import type { RecordInputs, RunContext } from './types.js';

const PR_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

/** Record files of downloaded artifacts, keyed by their repository path (the path inside the artifact). */
export function collectRecords(dirs: readonly string[], recordsDir: string): RecordFile[] {
  const out: RecordFile[] = [];
  const records = normalRecordsDir(recordsDir);
  for (const dir of dirs) {
    for (const file of listFiles(dir)) {
      const rel = path.relative(dir, file).split(path.sep).join('/');
      if (!rel.startsWith(`${records}/`) || !rel.endsWith('.json')) continue;
      const problem = recordPathProblem(rel, records);
      if (problem) throw new ActionError(`artifact ${path.basename(dir)}: record ${JSON.stringify(rel)} refused: ${problem}`);
      const text = fs.readFileSync(file, 'utf8');
      out.push({ path: rel, text, record: parseRecord(text, rel) });
    }
  }
  return out;
}

/** The outside tools `mode: record` uses, passed in (fakes in test/action/record-mode.test.ts). */
export interface RecordTools {
  artifacts: {
    /** Whether this step can reach the run's artifacts (on a GitHub runner). */
    available(): boolean;
    /** Downloads the run's artifacts whose names start with `<prefix>-`, each into its own directory under `into`. */
    downloadByPrefix(prefix: string, into: string): Promise<{ name: string; dir: string }[]>;
  };
  git: { commitRecords(files: readonly RecordFile[], o: CommitOptions): Promise<CommitResult> };
}

export const realRecordTools: RecordTools = {
  artifacts: { available: artifactsAvailable, downloadByPrefix },
  git: { commitRecords },
};

export async function runRecord(inputs: RecordInputs, ctx: RunContext, tools: RecordTools = realRecordTools): Promise<void> {
  if (PR_EVENTS.has(ctx.eventName)) {
    // A pull request's token cannot (and must not) write to the branch; its records stay artifacts.
    core.warning(`mode: record does not push on ${ctx.eventName} events; the records stay as artifacts of this run`);
    core.setOutput(Outputs.Result, 'skipped');
    return;
  }
  if (!tools.artifacts.available()) {
    throw new ActionError(
      "mode: record needs the run's artifacts, but ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL are not set; run it as a step of a GitHub Actions job",
    );
  }
  if (!fs.existsSync(path.join(inputs.workdir, '.git'))) {
    throw new ActionError(
      `mode: record needs a git checkout in ${inputs.workdir}; add actions/checkout (with the default persist-credentials) before this step`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-record-artifacts-'));
  try {
    setPhase('downloading the record artifacts');
    const got = await tools.artifacts.downloadByPrefix(inputs.recordArtifactPrefix, tmp);
    // Every attempt's record goes into the history; the latest files get the newest of each.
    const all = collectRecords(
      got.map((g) => g.dir),
      inputs.recordsDir,
    );
    const files = dedupe(all);
    info(`records: ${files.length} record(s) from ${got.length} artifact(s)`);
    core.setOutput(Outputs.Records, JSON.stringify(files.map((f) => f.path)));
    if (files.length === 0) {
      core.setOutput(Outputs.Result, 'empty');
      return;
    }
    const failed = files.filter((f) => f.record.result === 'failed').length;
    setPhase(`committing ${files.length} record(s) to ${inputs.branch}`);
    const res = await tools.git.commitRecords(files, {
      repo: inputs.workdir,
      branch: inputs.branch,
      recordsDir: inputs.recordsDir,
      retries: inputs.pushRetries,
      history: { recordsDir: inputs.recordsDir, rawDays: inputs.historyDays, now: new Date(), records: all.map((f) => f.record) },
      message: `records: ${files.length} target(s) from run ${ctx.runId} attempt ${ctx.runAttempt}${failed ? ` (${failed} failed)` : ''} [skip ci]`,
      log: (l) => info(l),
    });
    core.setOutput(Outputs.Commit, res.commit ?? '');
    core.setOutput(Outputs.Result, res.commit ? 'committed' : 'unchanged');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
