// scripts/workflow/deploy-pages.sh (the pages job's deploy step) run for real with bash and curl
// against a local stand-in of GitHub's OIDC token service and Pages deployment API.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAGES_SCRIPT_PATH } from '../../generators/workflow.js';
import { REPO_ROOT } from './workflow-factories.js';

interface Seen {
  method: string;
  url: string;
  auth: string;
  body: string;
}

/** A fake API: the statuses it reports in turn, or an HTTP error for the create call. */
async function fakeApi(statuses: string[], createStatus = 201): Promise<{ url: string; seen: Seen[]; close: () => void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization ?? '', body });
      res.setHeader('content-type', 'application/json');
      if (req.url!.startsWith('/oidc')) return res.end(JSON.stringify({ value: 'oidc-token' }));
      if (req.method === 'POST') {
        res.statusCode = createStatus;
        if (createStatus >= 300) return res.end(JSON.stringify({ message: 'Resource not accessible by integration' }));
        const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        return res.end(JSON.stringify({ page_url: 'https://acme.github.io/factory/', status_url: `${base}/repos/acme/factory/pages/deployments/abc/status` }));
      }
      res.end(JSON.stringify({ status: statuses.shift() ?? 'succeed' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, close: () => server.close() };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function deploy(api: string, extra: Record<string, string> = {}): Promise<{ code: number; out: string; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-pages-'));
  dirs.push(dir);
  const outputFile = path.join(dir, 'output');
  fs.writeFileSync(outputFile, '');
  const env = {
    PATH: process.env.PATH!,
    GITHUB_TOKEN: 'job-token',
    ARTIFACT_ID: '42',
    GITHUB_API_URL: api,
    GITHUB_REPOSITORY: 'acme/factory',
    GITHUB_SHA: 'abc',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${api}/oidc?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
    GITHUB_OUTPUT: outputFile,
    PAGES_POLL: '0',
    ...extra,
  };
  return new Promise((resolve) => {
    const p = spawn('bash', [path.join(REPO_ROOT, PAGES_SCRIPT_PATH)], { env });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, out, output: fs.readFileSync(outputFile, 'utf8') }));
  });
}

describe('deploy-pages.sh', () => {
  it('creates the deployment with the artifact, commit and OIDC token, waits for it and outputs page_url', async () => {
    const api = await fakeApi(['deployment_queued', 'deployment_in_progress', 'succeed']);
    const r = await deploy(api.url);
    api.close();
    expect(r.code, r.out).toBe(0);
    expect(r.output).toBe('page_url=https://acme.github.io/factory/\n');
    const [oidc, create, ...polls] = api.seen;
    expect(oidc!.auth).toBe('Bearer request-token');
    expect(create!.method).toBe('POST');
    expect(create!.url).toBe('/repos/acme/factory/pages/deployments');
    expect(create!.auth).toBe('Bearer job-token');
    expect(JSON.parse(create!.body)).toEqual({ artifact_id: 42, pages_build_version: 'abc', oidc_token: 'oidc-token' });
    expect(polls.map((p) => p.url)).toEqual(Array(3).fill('/repos/acme/factory/pages/deployments/abc/status'));
  });

  it.each([
    ['a failed deployment', ['deployment_in_progress', 'deployment_failed'], 201, 'ended with status deployment_failed'],
    ['a refused create', [], 403, 'answered HTTP 403: Resource not accessible by integration'],
  ])('fails on %s, saying why', async (_what, statuses, createStatus, message) => {
    const api = await fakeApi(statuses, createStatus);
    const r = await deploy(api.url);
    api.close();
    expect(r.code).toBe(1);
    expect(r.out).toContain(message);
    expect(r.output).toBe('');
  });

  it('says what is missing without the id-token permission', async () => {
    const r = await deploy('http://127.0.0.1:9', { ACTIONS_ID_TOKEN_REQUEST_URL: '' });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('id-token: write');
  });
});
