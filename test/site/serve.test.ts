// `factory serve`'s server: read-only, JSON errors, ETags.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSiteServer } from '../../src/site/serve.js';

const server = createSiteServer([
  { path: 'index.html', text: '<!doctype html><p>hi</p>\n' },
  { path: 'api/v1/index.json', text: '{"routes":[]}\n' },
]);
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the site server', () => {
  it('serves a route with its type and a strong ETag, and 304 for a matching If-None-Match', async () => {
    const res = await fetch(`${base}/api/v1/index.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await res.text()).toBe('{"routes":[]}\n');
    expect((await fetch(`${base}/api/v1/index.json`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${base}/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s is 405 with Allow: GET, HEAD', async (method) => {
    const res = await fetch(`${base}/api/v1/index.json`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toEqual({ error: `${method} is not allowed: this API is read-only`, status: 405 });
  });

  it.each(['/api/v1/nope.json', '/api/v1/targets/../../etc/passwd', '/%E0%A4%A'])('%s is a JSON error, not a crash', async (p) => {
    const res = await fetch(`${base}${p}`);
    expect([400, 404]).toContain(res.status);
    expect((await res.json()).status).toBe(res.status);
  });

  it('answers HEAD without a body', async () => {
    const res = await fetch(`${base}/api/v1/index.json`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('14');
    expect(await res.text()).toBe('');
  });
});
