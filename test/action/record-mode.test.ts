// `mode: record` with fakes of the tools it is given (the artifact service, git): what it
// downloads, which records it commits and with what message, and the outputs it sets. The real
// git push with its retries is test/action/commit-back.itg.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runRecord, type RecordTools } from '../../src/action/commit-back.js';
import { getInputs } from '../../src/action/context.js';
import type { CommitOptions, RecordFile } from '../../src/action/git.js';
import type { RecordInputs } from '../../src/action/types.js';
import { ctx, readOutputs, restoreEnvAfterEach, setEnv, setInputs } from './env.js';

restoreEnvAfterEach();

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'records');
const PASSED = fs.readFileSync(path.join(fixtures, 'passed.json'), 'utf8');
const FAILED = fs.readFileSync(path.join(fixtures, 'failed.json'), 'utf8');

/** Artifacts as the build legs upload them: name -> files (repository path -> text). */
type Artifacts = Record<string, Record<string, string>>;

/** `commit`: what the push made; null when every record was on the branch already. */
function fakeTools(artifacts: Artifacts, commit: string | null = 'c0ffee') {
  const commits: { files: RecordFile[]; o: CommitOptions }[] = [];
  const prefixes: string[] = [];
  const tools: RecordTools = {
    artifacts: {
      available: () => true,
      downloadByPrefix: async (prefix, into) => {
        prefixes.push(prefix);
        return Object.entries(artifacts)
          .filter(([name]) => name.startsWith(`${prefix}-`))
          .map(([name, files]) => {
            const dir = path.join(into, name);
            for (const [rel, text] of Object.entries(files)) {
              fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
              fs.writeFileSync(path.join(dir, rel), text);
            }
            return { name, dir };
          });
      },
    },
    git: {
      commitRecords: async (files, o) => {
        commits.push({ files: [...files], o });
        return { ...(commit ? { commit } : {}), attempts: 1, written: commit ? files.map((f) => f.path) : [] };
      },
    },
  };
  return { tools, commits, prefixes };
}

let ws: string;
let outputFile: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-record-mode-'));
  fs.mkdirSync(path.join(ws, '.git'));
  outputFile = path.join(ws, 'github-output');
  fs.writeFileSync(outputFile, '');
  setEnv({ GITHUB_OUTPUT: outputFile });
});
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

function outputs(): Record<string, string> {
  return readOutputs(outputFile);
}

function inputs(given: Record<string, string> = {}): RecordInputs {
  setInputs({ mode: 'record', branch: 'main', ...given });
  return getInputs({ ...ctx, workspace: ws }) as RecordInputs;
}

const PASSED_PATH = 'records/llm-runtime/1.4.0/llm-runtime-python3_11-amd64.json';
const FAILED_PATH = 'records/tools/2.0.0/tools-amd64.json';

describe('runRecord', () => {
  it('commits the records of every record artifact in one commit, saying how many failed', async () => {
    const { tools, commits, prefixes } = fakeTools({
      'factory-record-llm-runtime-python3_11-amd64-linux-amd64-42-1': { [PASSED_PATH]: PASSED },
      'factory-record-tools-amd64-linux-amd64-42-1': { [FAILED_PATH]: FAILED, 'notes.txt': 'not a record' },
      'factory-evidence-tools-amd64-linux-amd64-42-1': { [FAILED_PATH]: FAILED },
    });
    await runRecord(inputs({ 'record-artifact-prefix': 'factory-record' }), { ...ctx, workspace: ws }, tools);
    expect(prefixes).toEqual(['factory-record']);
    expect(commits).toHaveLength(1);
    const { files, o } = commits[0]!;
    expect(files.map((f) => f.path).sort()).toEqual([PASSED_PATH, FAILED_PATH]);
    expect(o).toMatchObject({ repo: ws, branch: 'main', recordsDir: 'records' });
    expect(o.message).toBe('records: 2 target(s) from run 42 attempt 2 (1 failed) [skip ci]');
    expect(o.history?.records.map((r) => r.target).sort()).toEqual(['llm-runtime-python3_11-amd64', 'tools-amd64']);
    expect(outputs()).toMatchObject({ result: 'committed', commit: 'c0ffee' });
    expect(JSON.parse(outputs().records!).sort()).toEqual([PASSED_PATH, FAILED_PATH]);
  });

  it('no record artifacts: result empty and no commit', async () => {
    const { tools, commits } = fakeTools({});
    await runRecord(inputs(), { ...ctx, workspace: ws }, tools);
    expect(commits).toEqual([]);
    expect(outputs()).toMatchObject({ result: 'empty', records: '[]' });
  });

  it('records already on the branch: result unchanged', async () => {
    const { tools } = fakeTools({ 'factory-record-x-42-1': { [PASSED_PATH]: PASSED } }, null);
    await runRecord(inputs({ 'record-artifact-prefix': 'factory-record' }), { ...ctx, workspace: ws }, tools);
    expect(outputs()).toMatchObject({ result: 'unchanged', commit: '' });
  });

  it('a record path that is not plain names is refused before anything is committed', async () => {
    const { tools, commits } = fakeTools({ 'factory-record-x-42-1': { [PASSED_PATH]: PASSED, 'records/tools/2.0.0/a b.json': FAILED } });
    await expect(runRecord(inputs({ 'record-artifact-prefix': 'factory-record' }), { ...ctx, workspace: ws }, tools)).rejects.toThrow(
      /records\/tools\/2.0.0\/a b.json.*refused.*plain file name/,
    );
    expect(commits).toEqual([]);
  });

  it('on a pull request it commits nothing and says so', async () => {
    const { tools, commits, prefixes } = fakeTools({ 'factory-record-x-42-1': { [PASSED_PATH]: PASSED } });
    await runRecord(inputs(), { ...ctx, workspace: ws, eventName: 'pull_request' }, tools);
    expect(prefixes).toEqual([]);
    expect(commits).toEqual([]);
    expect(outputs()).toMatchObject({ result: 'skipped' });
  });
});
