// Integration: the anonymous bearer token flow against a real docker-registry configured for
// token auth (as Docker Hub and GHCR are), with a token service started by the test that signs
// RS256 JWTs with a throwaway certificate the registry trusts.
import { execFileSync } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError } from '../../src/registry/client.js';
import { pushImage, startTestRegistry, type TestRegistry } from '../../src/registry/testing.js';

const ISSUER = 'factory-test-issuer';
const SERVICE = 'factory-test-registry';
const PUBLIC_REPO = 'public/app';

let dir: string;
let reg: TestRegistry;
let open: TestRegistry;
let tokenServer: Server;
const tokenRequests: string[] = [];

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'factory-token-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=factory-test-token',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const certDer = execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-outform', 'DER']);

  // Anonymous pulls of PUBLIC_REPO only, like a public repository on a hosted registry.
  tokenServer = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    tokenRequests.push(`${u.searchParams.get('service')} ${u.searchParams.get('scope')}`);
    const [type, name, actions] = (u.searchParams.get('scope') ?? '').split(':');
    const access = type === 'repository' && name === PUBLIC_REPO ? [{ type, name, actions: (actions ?? '').split(',').filter((a) => a === 'pull') }] : [];
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
    const claims = b64url(
      JSON.stringify({ iss: ISSUER, sub: '', aud: u.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access }),
    );
    const sig = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
  const addr = tokenServer.address();
  const realm = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/token`;

  // Seed through an open registry sharing the storage, then serve it with token auth.
  open = await startTestRegistry();
  await pushImage(open.host, PUBLIC_REPO, { platform: { os: 'linux', architecture: 'amd64' }, labels: { a: 'b' }, layer: 'x' }, '1.0');
  reg = await startTestRegistry(
    `auth:\n  token:\n    realm: ${realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${join(dir, 'cert.pem')}\n`,
    join(open.dir, 'data'),
  );
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await open?.stop();
  await new Promise((r) => tokenServer?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('bearer token flow against a token-auth registry', () => {
  it('gets an anonymous pull token and resolves the tag', async () => {
    const client = new RegistryClient();
    const d = await client.resolve(`${reg.host}/${PUBLIC_REPO}:1.0`);
    expect(d.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await client.listTags(`${reg.host}/${PUBLIC_REPO}`)).toEqual(['1.0']);
    expect(tokenRequests).toContain(`${SERVICE} repository:${PUBLIC_REPO}:pull`);
    // The token is cached per repository scope: two calls, one token request.
    expect(tokenRequests.filter((r) => r.includes(PUBLIC_REPO))).toHaveLength(1);
  });

  it('reports a repository the token does not grant as an authorization failure', async () => {
    const err = await new RegistryClient().resolve(`${reg.host}/private/app:1.0`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(401);
    expect((err as RegistryError).message).toMatch(/refused access to private\/app even after authenticating/);
  });
});
