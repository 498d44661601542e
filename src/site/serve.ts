// `factory serve`: the site's files over HTTP for local use. Read-only: GET and HEAD answer,
// other methods 405 (with Allow), unknown paths 404 as JSON; strong ETags from the bytes, so
// If-None-Match gives 304.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { OutputFile } from '../core/types.js';

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Entry {
  body: Buffer;
  type: string;
  etag: string;
}

function index(files: readonly OutputFile[]): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const f of files) {
    const body = Buffer.from(f.text);
    const ext = f.path.slice(f.path.lastIndexOf('.'));
    m.set(`/${f.path}`, { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` });
  }
  const home = m.get('/index.html');
  if (home) m.set('/', home);
  return m;
}

function problem(res: http.ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error, status }) + '\n');
}

export function createSiteServer(files: readonly OutputFile[]): http.Server {
  const routes = index(files);
  return http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, `${req.method} is not allowed: this API is read-only`, { allow: 'GET, HEAD' });
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return problem(res, 400, 'the path is not valid URL encoding');
    }
    const hit = routes.get(pathname);
    if (!hit) return problem(res, 404, `no such route: ${pathname.slice(0, 200)}; /api/v1/index.json lists the routes`);
    const headers = { 'content-type': hit.type, etag: hit.etag, 'cache-control': 'no-cache' };
    if (req.headers['if-none-match'] === hit.etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    res.writeHead(200, { ...headers, 'content-length': String(hit.body.length) });
    res.end(req.method === 'HEAD' ? undefined : hit.body);
  });
}
