// Reader of results.json (written by the generated test runner inside the test stage) and the
// JUnit XML / JSON the action publishes. The reader accepts the runner's field names and a few
// obvious synonyms, and rejects a file that has no test list with a message naming the file.
import { z } from 'zod';
import { ActionError } from './errors.js';

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestCase {
  /** The fragment ref or "product" that declared the test. */
  suite?: string;
  name: string;
  status: TestStatus;
  exitCode?: number;
  output?: string;
  message?: string;
  durationMs?: number;
  source?: { file: string; line: number };
}

export interface TestSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

const STATUS: Record<string, TestStatus> = {
  pass: 'passed',
  passed: 'passed',
  ok: 'passed',
  success: 'passed',
  fail: 'failed',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  skip: 'skipped',
  skipped: 'skipped',
};

const RawCase = z
  .object({
    name: z.string(),
    suite: z.string().optional(),
    fragment: z.string().optional(),
    origin: z.string().optional(),
    status: z.string().optional(),
    result: z.string().optional(),
    passed: z.boolean().optional(),
    skipped: z.union([z.boolean(), z.string()]).optional(),
    reason: z.string().nullish(),
    exit: z.number().nullish(),
    exitCode: z.number().nullish(),
    output: z.string().nullish(),
    stdout: z.string().nullish(),
    stderr: z.string().nullish(),
    message: z.string().nullish(),
    duration_ms: z.number().nullish(),
    durationMs: z.number().nullish(),
    file: z.string().nullish(),
    line: z.number().nullish(),
    source: z.object({ file: z.string(), line: z.number() }).optional(),
  })
  .passthrough();

export function parseResults(text: string, file: string): TestCase[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ActionError(`${file}: not valid JSON (${(e as Error).message}); the test runner must write results.json`);
  }
  const shape = 'expected {"tests":[{"name","status"}]}';
  // The list is found first so that an error in one test names its index, not the whole union.
  const [key, raw] = Array.isArray(data)
    ? ['', data]
    : data && typeof data === 'object'
      ? ((['tests', 'results'] as const).map((k) => [k, (data as Record<string, unknown>)[k]] as const).find(([, v]) => Array.isArray(v)) ?? ['', undefined])
      : ['', undefined];
  if (!Array.isArray(raw)) throw new ActionError(`${file}: field (root): no test list; ${shape}`);
  const parsed = z.array(RawCase).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = [key, ...issue.path].filter((x) => x !== '').join('.');
    throw new ActionError(`${file}: field ${field}: ${issue.message}; ${shape}`);
  }
  const list = parsed.data;
  return list.map((r) => {
    const word = (r.status ?? r.result ?? '').toLowerCase();
    const status: TestStatus = STATUS[word] ?? (r.skipped === true || typeof r.skipped === 'string' ? 'skipped' : r.passed === true ? 'passed' : 'failed');
    const c: TestCase = { name: r.name, status };
    const suite = r.suite ?? r.fragment ?? r.origin;
    if (suite) c.suite = suite;
    const exit = r.exitCode ?? r.exit;
    if (exit !== undefined && exit !== null) c.exitCode = exit;
    const output = r.output || [r.stdout, r.stderr].filter(Boolean).join('\n');
    if (output) c.output = output;
    const msg = r.message || (typeof r.skipped === 'string' ? r.skipped : r.reason);
    if (msg) c.message = msg;
    const d = r.durationMs ?? r.duration_ms;
    if (d !== undefined && d !== null) c.durationMs = d;
    const src = r.source ?? (r.file && r.line ? { file: r.file, line: r.line } : undefined);
    if (src) c.source = src;
    return c;
  });
}

/** Where one test target's tests ran, as its runner found it (results.json `environment`). */
export interface TestEnvironment {
  /** The accelerator the test step saw: "cuda" where the device node was there, else "cpu". */
  accelerator: string;
  /** The pool that promised a device, and the CDI device the step requested (device pools only). */
  pool?: string;
  device?: string;
}

const RawEnvironment = z.object({ accelerator: z.string().min(1), pool: z.string().optional(), device: z.string().optional() }).passthrough();

/** The `environment` of a results.json; undefined for runners from before it (or other tools). */
export function parseEnvironment(text: string): TestEnvironment | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined; // parseResults reports the broken file
  }
  const raw = data && typeof data === 'object' && !Array.isArray(data) ? RawEnvironment.safeParse((data as Record<string, unknown>).environment) : undefined;
  if (!raw?.success) return undefined;
  const env: TestEnvironment = { accelerator: raw.data.accelerator };
  if (raw.data.pool) env.pool = raw.data.pool;
  if (raw.data.device) env.device = raw.data.device;
  return env;
}

export function summarize(cases: readonly TestCase[]): TestSummary {
  const s = { total: cases.length, passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) s[c.status]++;
  return s;
}

function xml(s: string): string {
  // XML 1.0 cannot carry most control characters even escaped; test output may contain them.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** JUnit XML: one <testsuite> per test target, suites and cases in input order. */
export function toJUnit(suites: readonly { name: string; cases: readonly TestCase[] }[]): string {
  const all = suites.flatMap((s) => s.cases);
  const t = summarize(all);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="factory" tests="${t.total}" failures="${t.failed}" skipped="${t.skipped}">`];
  for (const s of suites) {
    const st = summarize(s.cases);
    out.push(`  <testsuite name="${xml(s.name)}" tests="${st.total}" failures="${st.failed}" skipped="${st.skipped}">`);
    for (const c of s.cases) {
      const time = c.durationMs !== undefined ? ` time="${(c.durationMs / 1000).toFixed(3)}"` : '';
      const cls = xml(c.suite ?? s.name);
      const open = `    <testcase classname="${cls}" name="${xml(c.name)}"${time}`;
      if (c.status === 'passed' && !c.output) {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      if (c.status === 'failed') {
        const exit = c.exitCode !== undefined ? ` (exit code ${c.exitCode})` : '';
        out.push(`      <failure message="${xml((c.message ?? 'failed') + exit)}"/>`);
      } else if (c.status === 'skipped') {
        out.push(`      <skipped message="${xml(c.message ?? '')}"/>`);
      }
      if (c.output) out.push(`      <system-out>${xml(c.output)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
