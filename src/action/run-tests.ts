// Phase 3 of a build: the test bake on top of the built images, results.json of each test
// target read back, each test's cases given to the image targets it belongs to, JUnit and JSON
// written for the evidence. A test target whose run itself broke gets a build error report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testArgs, type RunPaths } from './context.js';
import { buildErrorReport, testErrorReport, type ErrorReport } from './error-report.js';
import { findResults, writeFile, writeJson } from './evidence.js';
import { bake, type BakeJob, type BakeRun } from './images.js';
import { parseEnvironment, parseResults, summarize, toJUnit, type TestCase, type TestEnvironment } from './test-results.js';
import type { BakeRunner } from './tools.js';

export interface ImageTests {
  targets: string[];
  cases: TestCase[];
  /** Per test target: where its tests ran (the accelerator its step saw, the pool's device) and their counts. */
  runs?: TestRun[];
  failure?: ErrorReport;
}

export interface TestRun extends TestEnvironment {
  target: string;
  passed: number;
  failed: number;
  skipped: number;
}

export interface TestPhase {
  run?: BakeRun;
  /** Per image target. */
  byImage: Map<string, ImageTests>;
}

function readSuite(paths: RunPaths, test: string): { cases: TestCase[]; environment?: TestEnvironment } {
  const file = findResults(paths.testsDir(test));
  if (!file) return { cases: [] };
  const text = fs.readFileSync(file, 'utf8');
  const environment = parseEnvironment(text);
  return { cases: parseResults(text, `${test}/results.json`), ...(environment ? { environment } : {}) };
}

function testRun(target: string, cases: readonly TestCase[], environment: TestEnvironment): TestRun {
  const { passed, failed, skipped } = summarize(cases);
  return { target, ...environment, passed, failed, skipped };
}

export async function runTests(job: BakeJob, buildx: BakeRunner): Promise<TestPhase> {
  const { sel, inputs, paths, env, dockerfiles } = job;
  const byImage = new Map<string, ImageTests>(sel.images.map((t) => [t, { targets: [], cases: [] }]));
  if (sel.tests.length === 0) return { byImage };
  const run = await bake(buildx, testArgs(inputs, sel.tests, paths, sel.images, sel.def), inputs.workdir, env, paths.testRawjson);
  const suites = sel.tests.map((name) => ({ name, ...readSuite(paths, name) }));
  for (const s of suites) {
    for (const t of sel.owners.get(s.name) ?? []) {
      const mine = byImage.get(t)!;
      mine.targets.push(s.name);
      mine.cases.push(...s.cases);
      if (s.environment) (mine.runs ??= []).push(testRun(s.name, s.cases, s.environment));
      const failed = s.cases.find((c) => c.status === 'failed');
      if (!mine.failure && failed) mine.failure = testErrorReport(s.name, failed);
    }
  }
  if (run.exitCode !== 0) {
    const report = buildErrorReport({ progress: run.progress, targets: sel.tests, dockerfiles, exitCode: run.exitCode });
    const owners = sel.owners.get(report.target) ?? [];
    for (const [t, mine] of byImage) if (owners.length === 0 || owners.includes(t)) mine.failure ??= report;
  }
  writeFile(path.join(paths.dir, 'tests', 'junit.xml'), toJUnit(suites));
  writeJson(
    path.join(paths.dir, 'tests', 'results.json'),
    suites.map((s) => ({ target: s.name, summary: summarize(s.cases), ...(s.environment ? { environment: s.environment } : {}), tests: s.cases })),
  );
  return { run, byImage };
}
