// A local stand-in of the GitHub Actions results service for @actions/artifact: the Twirp JSON
// endpoints of github.actions.results.api.v1.ArtifactService on a small HTTP server, with
// Azurite (real Azure Blob storage emulation) behind the signed URLs it hands out. The client
// library runs unmodified against it: it zips, uploads blocks to Azurite, finalizes, lists and
// downloads.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';

// Azurite's well-known development account (public, documented by Azurite).
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'artifacts';
const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService/';

export interface StoredArtifact {
  id: number;
  name: string;
  runBackendId: string;
  jobBackendId: string;
  size: number;
  hash?: string;
  finalized: boolean;
  createdAt: string;
  retentionExpiresAt?: string;
}

/**
 * A fault the service injects into the next `times` matching requests: answer `status`
 * instead of handling it, or (afterHandling) handle it and still answer `status`, as when the
 * service did the work but the answer was lost; `hold` delays the answer until it resolves.
 */
export interface Fault {
  /** The Twirp method, e.g. CreateArtifact. */
  method: string;
  /** Only requests for artifacts whose name matches. */
  name?: RegExp;
  status?: number;
  afterHandling?: boolean;
  times: number;
  hold?: () => Promise<void>;
}

export interface ResultsService {
  url: string;
  /** Faults to inject (see Fault); each is used up after `times` requests. */
  faults: Fault[];
  /** ACTIONS_RUNTIME_TOKEN for a job of run `run`. */
  token(run: string, job: string): string;
  artifacts: StoredArtifact[];
  requests: string[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`Azurite did not answer on ${url} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

export async function startResultsService(): Promise<ResultsService> {
  const blobPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/.bin/azurite-blob');
  const azurite: ChildProcess = spawn(
    bin,
    ['--blobHost', '127.0.0.1', '--blobPort', String(blobPort), '--location', dir, '--silent', '--skipApiVersionCheck', '--loose'],
    {
      stdio: 'ignore',
    },
  );
  const blobUrl = `http://127.0.0.1:${blobPort}/${ACCOUNT}`;
  const cred = new StorageSharedKeyCredential(ACCOUNT, KEY);
  try {
    await waitFor(blobUrl, 20_000);
    await new BlobServiceClient(blobUrl, cred).getContainerClient(CONTAINER).createIfNotExists();
  } catch (e) {
    azurite.kill('SIGTERM');
    throw e;
  }

  const artifacts: StoredArtifact[] = [];
  const requests: string[] = [];
  const faults: Fault[] = [];
  const sas = (blob: string, perms: string) =>
    `${blobUrl}/${CONTAINER}/${encodeURIComponent(blob)}?${generateBlobSASQueryParameters(
      { containerName: CONTAINER, blobName: blob, permissions: BlobSASPermissions.parse(perms), expiresOn: new Date(Date.now() + 3600_000) },
      cred,
    ).toString()}`;
  const blobName = (a: Pick<StoredArtifact, 'runBackendId' | 'name'>) => `${a.runBackendId}/${a.name}.zip`;

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', async () => {
      const answer = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      let fault: Fault | undefined;
      const reply = (status: number, data: unknown) =>
        fault?.status && fault.afterHandling ? answer(fault.status, { code: 'internal', msg: `injected ${fault.status}` }) : answer(status, data);
      const method = req.url?.startsWith(SERVICE) ? req.url.slice(SERVICE.length) : '';
      requests.push(method || req.url || '');
      if (!/^Bearer .+/.test(req.headers.authorization ?? '')) return reply(401, { code: 'unauthenticated', msg: 'no token' });
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(body || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, { code: 'malformed', msg: 'body is not JSON' });
      }
      fault = faults.find((f) => f.times > 0 && f.method === method && (!f.name || f.name.test(String(r.name ?? ''))));
      if (fault) {
        fault.times--;
        if (fault.hold) await fault.hold();
        if (fault.status && !fault.afterHandling) return answer(fault.status, { code: 'internal', msg: `injected ${fault.status}` });
      }
      const run = String(r.workflow_run_backend_id ?? '');
      const job = String(r.workflow_job_run_backend_id ?? '');
      switch (method) {
        case 'CreateArtifact': {
          const name = String(r.name ?? '');
          // Artifacts are immutable: a second artifact of the same name in a run is refused,
          // which is what makes re-run safe naming matter.
          if (artifacts.some((a) => a.runBackendId === run && a.name === name)) {
            return reply(409, { code: 'already_exists', msg: `an artifact with this name already exists on the workflow run` });
          }
          const a: StoredArtifact = {
            id: artifacts.length + 1,
            name,
            runBackendId: run,
            jobBackendId: job,
            size: 0,
            finalized: false,
            createdAt: new Date().toISOString(),
          };
          if (typeof r.expires_at === 'string') a.retentionExpiresAt = r.expires_at;
          artifacts.push(a);
          return reply(200, { ok: true, signed_upload_url: sas(blobName(a), 'cw') });
        }
        case 'FinalizeArtifact': {
          const a = artifacts.find((x) => x.runBackendId === run && x.name === r.name && !x.finalized);
          if (!a) return reply(404, { code: 'not_found', msg: 'no such artifact' });
          a.finalized = true;
          a.size = Number(r.size ?? 0);
          if (typeof r.hash === 'string') a.hash = r.hash;
          return reply(200, { ok: true, artifact_id: String(a.id) });
        }
        case 'ListArtifacts': {
          const nameFilter = typeof r.name_filter === 'string' ? r.name_filter : undefined;
          const idFilter = r.id_filter !== undefined ? Number(r.id_filter) : undefined;
          const list = artifacts.filter(
            (a) => a.finalized && a.runBackendId === run && (!nameFilter || a.name === nameFilter) && (idFilter === undefined || a.id === idFilter),
          );
          return reply(200, {
            artifacts: list.map((a) => ({
              workflow_run_backend_id: a.runBackendId,
              workflow_job_run_backend_id: a.jobBackendId,
              database_id: String(a.id),
              name: a.name,
              size: String(a.size),
              created_at: a.createdAt,
            })),
          });
        }
        case 'GetSignedArtifactURL': {
          const a = artifacts.find((x) => x.finalized && x.runBackendId === run && x.name === r.name);
          if (!a) return reply(404, { code: 'not_found', msg: 'no such artifact' });
          return reply(200, { signed_url: sas(blobName(a), 'r') });
        }
        default:
          return reply(404, { code: 'bad_route', msg: `no handler for ${req.url}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    token: (run, job) =>
      `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ scp: `Actions.ExampleScope Actions.Results:${run}:${job}` }))}.sig`,
    faults,
    artifacts,
    requests,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Azurite closes gracefully on SIGTERM but waits for idle keep-alive sockets; give it a
      // moment, then make sure it is gone before its data directory is removed.
      const exited = new Promise<void>((resolve) => azurite.once('exit', () => resolve()));
      azurite.kill('SIGTERM');
      const timer = setTimeout(() => azurite.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
