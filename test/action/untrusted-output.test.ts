// Text from Dockerfiles, tests and buildx's stderr reaches the job log and the job summary. The
// bundled action (dist/index.js) is run as a runner runs it, with a hostile `docker buildx`
// stand-in (fixtures/hostile-buildx) on PATH, and its whole output is read back the way the
// runner reads it: no line may be a workflow command the action did not mean to write, and the
// summary must show every hostile value as text.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logText, markdownBlock, markdownCode, markdownText } from '../../src/core/escape.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const fake = path.join(repo, 'test/action/fixtures/hostile-buildx');
const hostile = JSON.parse(fs.readFileSync(path.join(fake, 'hostile.json'), 'utf8')) as { lines: string[]; markdown: string };
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-untrusted-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Command {
  name: string;
  data: string;
  line: string;
}

/**
 * The workflow commands the runner would find in a step's output: it splits at \n, \r\n and a
 * lone \r, takes `::name ...::data` at the start of a line after whitespace, and (legacy
 * syntax) `##[name ...]data` anywhere in a line.
 */
function runnerCommands(output: string): Command[] {
  const out: Command[] = [];
  for (const line of output.split(/\r\n|\r|\n/)) {
    const v2 = /^\s*::([^\s:]*)[^:]*::(.*)$/.exec(line) ?? /^\s*::([^\s:]*)/.exec(line);
    if (v2) out.push({ name: v2[1]!, data: v2[2] ?? '', line });
    else if (line.includes('##[')) out.push({ name: `legacy:${/##\[([^\]\s]*)/.exec(line)?.[1] ?? ''}`, data: line, line });
  }
  return out;
}

/** What the action itself writes as commands (@actions/core with GITHUB_OUTPUT/GITHUB_STATE files). */
const OWN_COMMANDS = new Set(['error', 'warning', 'debug', 'notice', 'group', 'endgroup']);

function expectNoInjectedCommands(output: string): void {
  const commands = runnerCommands(output);
  for (const c of commands) {
    expect(OWN_COMMANDS.has(c.name), `the runner would obey ${JSON.stringify(c.line)}`).toBe(true);
    // The action's own errors and warnings carry hostile text only as their (escaped) data,
    // after its own words; a hostile line printed raw would start with the hostile word.
    expect(c.data.startsWith('PWNED'), `injected: ${JSON.stringify(c.line)}`).toBe(false);
  }
}

/** Markdown outside code spans and fenced blocks, where any markup would take effect. */
function outsideCode(md: string): string {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of md.split('\n')) {
    const f = /^(`{3,})/.exec(line)?.[1];
    if (fence) {
      if (f && f.length >= fence.length && line.trim() === f) fence = undefined;
      continue;
    }
    if (f) {
      fence = f;
      continue;
    }
    // A code span opens with a backtick run and closes at the next run of the same length.
    lines.push(line.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, ' CODE '));
  }
  return lines.join('\n');
}

/** Markup characters not escaped with a backslash. */
function unescaped(text: string, chars: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    let slashes = 0;
    for (let j = i - 1; j >= 0 && text[j] === '\\'; j--) slashes++;
    if (chars.includes(text[i]!) && slashes % 2 === 0) out.push(text.slice(Math.max(0, i - 20), i + 20));
  }
  return out;
}

function expectInertMarkdown(md: string): void {
  const text = outsideCode(md).replace(/^<\/?details>(<summary>records<\/summary>)?$/gm, '');
  expect(unescaped(text, '<>[]!&$*_~'), 'markup outside code').toEqual([]);
  for (const row of text.split('\n').filter((l) => l.startsWith('|'))) {
    expect(unescaped(row, '|'), `columns of ${row}`).toHaveLength(11);
  }
}

interface Run {
  status: number | null;
  output: string;
  summary: string;
}

function runAction(name: string, env: Record<string, string> = {}): Promise<Run> {
  const ws = path.join(root, name);
  fs.mkdirSync(path.join(ws, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'docker-bake.hcl'), '# the hostile buildx prints its own definition\n');
  fs.writeFileSync(path.join(ws, 'Dockerfile'), 'FROM scratch\nRUN echo\nRUN echo\n');
  const files = { GITHUB_OUTPUT: path.join(ws, 'output'), GITHUB_STEP_SUMMARY: path.join(ws, 'summary.md'), GITHUB_STATE: path.join(ws, 'state') };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const child = spawn(process.execPath, [path.join(repo, 'dist/index.js')], {
    cwd: ws,
    env: {
      PATH: `${fake}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: ws,
      GITHUB_WORKSPACE: ws,
      GITHUB_RUN_ID: '7',
      GITHUB_REPOSITORY: 'acme/factory',
      RUNNER_TEMP: path.join(ws, 'tmp'),
      INPUT_TARGET: 'img-amd64',
      INPUT_SBOM: 'false',
      INPUT_EVIDENCE: 'false',
      ...files,
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output, summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8') })));
}

describe('untrusted text in the job log and summary (dist/index.js, hostile buildx)', () => {
  it('a failing test with hostile names, messages and output: shown, never obeyed', async () => {
    const r = await runAction('test-fails');
    expect(r.status, r.output).toBe(1);
    // The hostile lines were printed (a reader sees them) ...
    expect(r.output).toContain('PWNED-mask');
    expect(r.output).toContain('PWNED-carriage-return');
    expect(r.output).toContain('PWNED-legacy in the middle');
    // ... and the runner obeys none of them.
    expectNoInjectedCommands(r.output);
    // The job still fails with its own message naming the test.
    expect(runnerCommands(r.output).filter((c) => c.name === 'error').length).toBeGreaterThan(0);

    expect(r.summary).toContain('### ❌ img-amd64: test failed');
    expectInertMarkdown(r.summary);
    // The test's name is shown exactly, inside a code span.
    expect(r.summary).toContain(`- step: ${markdownCode(hostile.markdown)}`);
    expect(r.summary).toContain(`- error: ${markdownText(hostile.markdown)}`);
  });

  it('a failing build step with a hostile name and error: shown, never obeyed', async () => {
    const r = await runAction('build-fails', { FAKE_FAIL: '1' });
    expect(r.status, r.output).toBe(1);
    expect(r.output).toContain('PWNED-stop');
    expectNoInjectedCommands(r.output);
    expect(r.summary).toContain('### ❌ img-amd64: build step failed');
    expectInertMarkdown(r.summary);
  });
});

describe('logText', () => {
  it('neutralises every command form and keeps the visible text', () => {
    for (const h of hostile.lines) {
      const safe = logText(h);
      expect(runnerCommands(safe), JSON.stringify(h)).toEqual([]);
      // The only change is invisible: zero-width spaces, and line ends made plain \n.
      expect(safe.replace(/\u200b/g, '')).toBe(h.replace(/\r\n|\r/g, '\n'));
    }
    expect(logText('plain text: with colons :: inside')).toBe('plain text: with colons :: inside');
  });
});

describe('markdown escaping', () => {
  it('code spans and blocks show any backtick run exactly', () => {
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('`x`')).toBe('`` `x` ``');
    expect(markdownCode('a|b', true)).toBe('`a\\|b`');
    expect(markdownBlock(['```', '````x'])).toEqual(['`````text', '```', '````x', '`````']);
  });

  it('text is inert: HTML, links, images, emphasis, pipes', () => {
    const t = markdownText(hostile.markdown);
    expectInertMarkdown(`- ${t}`);
    expect(t.replace(/\\(.)/g, '$1')).toBe(hostile.markdown);
  });
});

describe('one home for the job log', () => {
  it('src/action prints only through console.ts `info` (core.info, stdout writes and console.log elsewhere would skip logText)', () => {
    const dir = path.join(repo, 'src/action');
    const offenders = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && f !== 'console.ts')
      .filter((f) => /\bcore\.info\(|process\.stdout\.write|console\.(log|info)\(/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
