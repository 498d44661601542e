// Protocol tests of the client against a scripted HTTP server: the anonymous bearer token flow,
// Basic auth, and how failures read. The behaviour against a real registry is covered by
// client.itg.test.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChallenge, RegistryClient, RegistryError } from '../../src/registry/client.js';
import { MEDIA_TYPES, sha256Digest } from '../../src/registry/oci.js';

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function serve(handler: Handler): Promise<{ host: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    handler(req, res, `http://${host}`);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { host, requests };
}

const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: MEDIA_TYPES.ociConfig, digest: `sha256:${'0'.repeat(64)}`, size: 2 },
  layers: [],
});

describe('parseChallenge', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' } },
    ],
    ['Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ['Bearer realm=http://x/token,service=x', { scheme: 'bearer', params: { realm: 'http://x/token', service: 'x' } }],
  ])('%s', (header, want) => {
    expect(parseChallenge(header)).toEqual(want);
  });
});

describe('anonymous bearer token flow', () => {
  it('fetches a pull token for the repository scope and reuses it', async () => {
    const { host, requests } = await serve((req, res, base) => {
      if (req.url?.startsWith('/token')) {
        const u = new URL(req.url, base);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ token: `tok-${u.searchParams.get('scope')}-${u.searchParams.get('service')}` }));
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-repository:team/app:pull-reg') {
        res.statusCode = 401;
        res.setHeader('www-authenticate', `Bearer realm="${base}/token",service="reg",scope="repository:team/app:pull"`);
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      res.setHeader('content-type', MEDIA_TYPES.ociManifest);
      res.setHeader('docker-content-digest', sha256Digest(Buffer.from(manifest)));
      res.setHeader('content-length', String(Buffer.byteLength(manifest)));
      res.end(req.method === 'HEAD' ? undefined : manifest);
    });
    const client = new RegistryClient();
    const d = await client.resolve(`${host}/team/app:1.0`);
    expect(d).toEqual({ mediaType: MEDIA_TYPES.ociManifest, digest: sha256Digest(Buffer.from(manifest)), size: Buffer.byteLength(manifest) });
    expect(await client.manifestExists(`${host}/team/app:1.0`)).toBe(true);
    expect(requests).toEqual([
      'HEAD /v2/team/app/manifests/1.0 -',
      'GET /token?service=reg&scope=repository%3Ateam%2Fapp%3Apull -',
      'HEAD /v2/team/app/manifests/1.0 Bearer tok-repository:team/app:pull-reg',
      'HEAD /v2/team/app/manifests/1.0 Bearer tok-repository:team/app:pull-reg',
    ]);
  });

  it('says which token service refused', async () => {
    const { host } = await serve((req, res, base) => {
      res.statusCode = 401;
      if (!req.url?.startsWith('/token')) res.setHeader('www-authenticate', `Bearer realm="${base}/token",service="reg"`);
      res.end();
    });
    await expect(new RegistryClient().resolve(`${host}/private/app:1`)).rejects.toThrow(
      /token service http:\/\/127\.0\.0\.1:\d+ refused a pull token for private\/app \(HTTP 401\)/,
    );
  });

  it('uses Basic credentials when the registry asks for them', async () => {
    const { host, requests } = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="r"');
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'x', tags: ['b', 'a'] }));
    });
    const client = new RegistryClient({ credentials: (r) => (r === host ? { username: 'u', password: 'p' } : undefined) });
    expect(await client.listTags(`${host}/x`)).toEqual(['a', 'b']);
    expect(requests).toHaveLength(2);
    await expect(new RegistryClient().listTags(`${host}/x`)).rejects.toThrow(/requires a username and password/);
  });
});

describe('failures', () => {
  it('rejects a manifest whose bytes do not match the announced digest', async () => {
    const { host } = await serve((_req, res) => {
      res.setHeader('content-type', MEDIA_TYPES.ociManifest);
      res.setHeader('docker-content-digest', `sha256:${'1'.repeat(64)}`);
      res.end(manifest);
    });
    const err = await new RegistryClient().getManifest(`${host}/a:b`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('DIGEST_INVALID');
  });

  it('manifestExists is false on 404 but throws on server errors', async () => {
    const { host } = await serve((req, res) => {
      res.statusCode = req.url?.includes('missing') ? 404 : 500;
      res.end();
    });
    const client = new RegistryClient();
    expect(await client.manifestExists(`${host}/a:missing`)).toBe(false);
    await expect(client.manifestExists(`${host}/a:boom`)).rejects.toThrow(/answered HTTP 500/);
  });

  it('names the registry it cannot reach', async () => {
    const { host } = await serve((_req, res) => res.end());
    await new Promise((r) => server!.close(r));
    server = undefined;
    await expect(new RegistryClient({ timeoutMs: 2000 }).resolve(`${host}/a:b`)).rejects.toThrow(
      new RegExp(`cannot reach registry ${host.replace(/\./g, '\\.')}`),
    );
  });
});
