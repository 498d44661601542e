// Private daemons for fault injection, so that stopping or killing them never touches the
// shared sandbox other tests use: a docker-registry (Debian's, configured like
// scripts/sandbox.sh configures the shared one) on its own loopback port, and a buildkitd
// with its own socket and buildx builder through `scripts/sandbox.sh builder-up` pointed at
// a private state directory. And the action itself, run from dist/index.js as a runner runs it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SANDBOX_BIN = process.env.FACTORY_SANDBOX_BIN ?? '/usr/local/lib/factory-sandbox/bin';
const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Why the fault tests cannot run here, or undefined when they can. */
export function missingSandbox(): string | undefined {
  for (const bin of [REGISTRY_BIN, path.join(SANDBOX_BIN, 'buildkitd'), path.join(SANDBOX_BIN, 'buildx')]) {
    if (!fs.existsSync(bin)) return `${bin} is not installed (run scripts/sandbox.sh up as root)`;
  }
  if (process.getuid?.() !== 0) return 'buildkitd needs root';
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it is true; throws `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface Registry {
  addr: string;
  dataDir: string;
  /** (Re)starts it on the same port with the same data. */
  start(): Promise<void>;
  /** SIGKILL: a registry that dies, not one that shuts down. */
  kill(): Promise<void>;
  /** Digest of a manifest, or undefined when the registry has none. */
  manifest(repo: string, ref: string): Promise<string | undefined>;
  tags(repo: string): Promise<string[]>;
}

export async function privateRegistry(root: string): Promise<Registry> {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const dataDir = path.join(root, 'registry');
  fs.mkdirSync(dataDir, { recursive: true });
  const config = path.join(root, 'registry.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: info, formatter: text }',
      `storage: { filesystem: { rootdirectory: ${dataDir} }, delete: { enabled: true }, redirect: { disable: true } }`,
      `http: { addr: ${addr} }`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const up = async () => {
    try {
      return (await fetch(`http://${addr}/v2/`)).ok;
    } catch {
      return false;
    }
  };
  const reg: Registry = {
    addr,
    dataDir,
    async start() {
      const log = fs.openSync(path.join(root, 'registry.log'), 'a');
      child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      await until(up, 20_000, `the private registry on ${addr}`);
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    async manifest(name, ref) {
      const res = await fetch(`http://${addr}/v2/${name}/manifests/${ref}`, {
        method: 'HEAD',
        headers: {
          accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      });
      return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
    },
    async tags(name) {
      const res = await fetch(`http://${addr}/v2/${name}/tags/list`);
      return res.ok ? (((await res.json()) as { tags?: string[] }).tags ?? []).sort() : [];
    },
  };
  await reg.start();
  return reg;
}

export interface Builder {
  /** The buildx builder name (BUILDX_BUILDER). */
  name: string;
  /** (Re)starts the buildkitd; its state directory is kept. */
  start(): void;
  /** SIGKILL the buildkitd: a builder that dies mid-build. */
  kill(): void;
  stop(): void;
}

/** A buildkitd of our own (scripts/sandbox.sh builder-up in a private state directory) that trusts `registry` over HTTP. */
export function privateBuilder(root: string, id: string, registry: string): Builder {
  const state = path.join(root, 'sandbox');
  fs.mkdirSync(state, { recursive: true });
  // builder-up reads the registry it marks as plain HTTP from the sandbox state.
  fs.writeFileSync(path.join(state, 'state.env'), `ARM64=unavailable\nREGISTRY=${registry}\n`);
  const env = { ...process.env, FACTORY_SANDBOX_DIR: state, FACTORY_SANDBOX_BIN: SANDBOX_BIN };
  const sandbox = (...args: string[]) =>
    execFileSync('bash', [path.join(repo, 'scripts/sandbox.sh'), ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const pidFile = path.join(state, 'pids', `buildkitd-${id}.pid`);
  const b: Builder = {
    name: `factory-${id}`,
    start() {
      sandbox('builder-up', id);
    },
    kill() {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        execFileSync('sleep', ['0.1']);
      }
    },
    stop() {
      try {
        sandbox('builder-down', id);
      } catch {
        // A buildkitd killed mid-step leaves its container's rootfs mounted: unmount what is
        // under our own state directory, then remove it.
        const mounts = fs
          .readFileSync('/proc/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? '');
        for (const m of mounts.filter((m) => m.startsWith(`${state}/`)).reverse()) execFileSync('umount', ['-l', m]);
        fs.rmSync(state, { recursive: true, force: true });
      }
    },
  };
  b.start();
  return b;
}

/** A workspace with a bake file for one image target built FROM scratch (a static busybox: no base image to pull). */
export function imageWorkspace(dir: string, opts: { target: string; registry: string; sleep?: number; megabytes?: number; bust?: string }): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'busybox'));
  fs.writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'ARG BUST SLEEP MEGABYTES',
      // Exec form: scratch has no /bin/sh; busybox's sh expands the build args from the environment.
      'RUN ["/bin/busybox", "sh", "-c", "echo $BUST; /bin/busybox sleep $SLEEP; /bin/busybox dd if=/dev/urandom of=/payload bs=1048576 count=$MEGABYTES 2>/dev/null"]',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'docker-bake.hcl'),
    `target "${opts.target}" {
  context = "."
  dockerfile = "Dockerfile"
  platforms = ["linux/amd64"]
  tags = ["${opts.registry}/fault/${opts.target}:1.0.0-amd64"]
  args = { BUST = "${opts.bust ?? `${Date.now()}-${Math.random()}`}", SLEEP = "${opts.sleep ?? 0}", MEGABYTES = "${opts.megabytes ?? 1}" }
  labels = { "dev.factory.product" = "fault@1.0.0", "dev.factory.variant" = "default" }
}
`,
  );
  return dir;
}

export interface ActionRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  log: string;
  outputs: Record<string, string>;
  temp: string;
}

export interface ActionProcess {
  child: ChildProcess;
  /** The log so far. */
  log(): string;
  done: Promise<ActionRun>;
}

/** Starts dist/index.js with a runner's environment (INPUT_*, GITHUB_*, GITHUB_OUTPUT). */
export function startAction(dir: string, workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}): ActionProcess {
  const temp = path.join(dir, 'runner-temp');
  fs.mkdirSync(temp, { recursive: true });
  const out = path.join(dir, 'output');
  fs.writeFileSync(out, '');
  fs.writeFileSync(path.join(dir, 'state'), '');
  const full: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:${SANDBOX_BIN}:${process.env.PATH}`,
    HOME: os.homedir(),
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/factory',
    GITHUB_RUN_ID: '900',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_OUTPUT: out,
    GITHUB_STATE: path.join(dir, 'state'),
    RUNNER_TEMP: temp,
    ...env,
  };
  for (const [k, v] of Object.entries(inputs)) full[`INPUT_${k.toUpperCase()}`] = v;
  const child = spawn(process.execPath, [path.join(repo, 'dist/index.js')], { env: full, cwd: workspace });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const done = new Promise<ActionRun>((resolve) => {
    child.on('close', (status, signal) => {
      const outputs: Record<string, string> = {};
      for (const m of fs.readFileSync(out, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
      resolve({ status, signal, log, outputs, temp });
    });
  });
  return { child, log: () => log, done };
}

/** The record files under `dir`/records, relative to `dir`. */
export function recordFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(path.join(dir, 'records'));
  return out.sort();
}
