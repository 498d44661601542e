// `factory gc`: retention of the registry (bk-<key> tags, per-target cache refs) and of the
// record history. Reads the registry's inventory through its HTTP API, lets the pure rules
// (src/core/retention.ts) decide, and deletes by digest (DELETE /v2/<name>/manifests/<digest>).
// Everything is read and decided before the first delete, so a registry that fails half-way
// through the inventory deletes nothing.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { retentionDecisions, type InventoryRepo, type InventoryTag, type RetentionDecision } from '../core/retention.js';
import type { ResolvedFactory } from '../core/types.js';
import { monthIsDue } from '../obs/aggregate.js';
import { HISTORY_DIR } from '../obs/history.js';
import { applyHistory, monthOf } from '../action/history.js';
import { cacheTag } from '../../generators/bake.js';
import { mapLimit } from '../plan/index.js';
import { keyTag, Renderer } from '../plan/key.js';
import { RegistryClient, RegistryError } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/docker-config.js';
import { isAttestation } from '../registry/oci.js';
import type { CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { paint, printJson } from './output.js';

const RECORDS_DIR = 'records';
const CONCURRENCY = 8;

interface Scope {
  host: string;
  /** The namespace inside the registry (REGISTRY without the host), '' for none. */
  namespace: string;
  cacheRepository: string;
}

function scopeOf(registry: string, cacheRepo: string | undefined): Scope {
  const [host, ...rest] = registry.replace(/\/+$/, '').split('/');
  const namespace = rest.join('/');
  const cache = (cacheRepo ?? `${registry.replace(/\/+$/, '')}/cache`).replace(/\/+$/, '');
  if (!cache.startsWith(`${host}/`)) throw new UserError(`CACHE_REPO ${cache} is not on the registry ${host}: gc reads one registry at a time.`, EXIT.usage);
  return { host: host!, namespace, cacheRepository: cache.slice(host!.length + 1) };
}

const repoPath = (s: Scope, image: string): string => (s.namespace ? `${s.namespace}/${image}` : image);

/** What the factory as it is now references: key tags, cache tags, published tags. */
function currentRefs(factory: ResolvedFactory, s: Scope) {
  const renderer = new Renderer();
  const keyTags = new Map<string, Set<string>>();
  const published = new Map<string, Set<string>>();
  const cacheTags = new Set<string>();
  const add = (m: Map<string, Set<string>>, repo: string, tag: string) => m.set(repo, (m.get(repo) ?? new Set()).add(tag));
  for (const t of factory.targets) {
    const repo = repoPath(s, t.product.product.doc.image);
    add(keyTags, repo, keyTag(renderer.key(t)));
    cacheTags.add(cacheTag(t.name));
    for (const ref of [...t.tags, ...t.mergedTags]) {
      const i = ref.lastIndexOf(':');
      add(published, repoPath(s, ref.slice(0, i)), ref.slice(i + 1));
    }
  }
  return { keyTags, published, cacheTags };
}

/** Creation time of an image manifest: its config's `created`, else BuildKit's cache layer annotations. */
async function createdOf(client: RegistryClient, ref: string, digest: string): Promise<string | undefined> {
  const m = await client.getManifest(`${ref}@${digest}`);
  if (m.manifest.kind !== 'image') return undefined;
  const img = m.manifest.image;
  const annotated = [img.annotations?.['org.opencontainers.image.created'], ...img.layers.map((l) => l.annotations?.['buildkit/createdat'])].filter(
    (x): x is string => typeof x === 'string' && !Number.isNaN(Date.parse(x)),
  );
  if (img.config.mediaType.includes('buildkit')) return annotated.sort().at(-1);
  const config = await client.getImageConfig(`${ref}@${digest}`, img);
  return config.created ?? annotated.sort().at(-1);
}

async function inventoryTag(client: RegistryClient, ref: string, tag: string, wantAge: boolean): Promise<InventoryTag> {
  const m = await client.getManifest(`${ref}:${tag}`);
  const children = m.manifest.kind === 'index' ? m.manifest.index.manifests.map((d) => d.digest) : [];
  let created: string | undefined;
  if (wantAge) {
    if (m.manifest.kind === 'image') created = await createdOf(client, ref, m.digest);
    else {
      const images = m.manifest.index.manifests.filter((d) => !isAttestation(d));
      const times = (await Promise.all(images.map((d) => createdOf(client, ref, d.digest)))).filter((x): x is string => x !== undefined);
      created = times.length === images.length && times.length > 0 ? times.sort().at(-1) : undefined;
    }
  }
  return { tag, digest: m.digest, children, ...(created ? { created } : {}) };
}

async function inventoryRepo(client: RegistryClient, s: Scope, repository: string): Promise<InventoryRepo> {
  const ref = `${s.host}/${repository}`;
  const tags = await client.listTags(ref);
  const candidate = (t: string) => (repository === s.cacheRepository ? !t.startsWith('shared-') : t.startsWith('bk-'));
  const inv = await mapLimit(tags, CONCURRENCY, (t) => inventoryTag(client, ref, t, candidate(t)));
  const referrers: Record<string, string[]> = {};
  for (const t of inv.filter((x) => candidate(x.tag))) {
    const found = await client.referrers(ref, t.digest);
    if (found === undefined) break; // no referrers API: cosign's tag scheme is all there is
    referrers[t.digest] = found.map((d) => d.digest);
  }
  return { repository, tags: inv, referrers };
}

/** The product and cache repositories, plus any other under the namespace the catalog lists. */
async function repositories(client: RegistryClient, s: Scope, known: string[], notes: string[]): Promise<string[]> {
  const repos = new Set([...known, s.cacheRepository]);
  try {
    for (const r of await client.catalog(s.host)) if (!s.namespace || r.startsWith(`${s.namespace}/`)) repos.add(r);
  } catch (e) {
    if (!(e instanceof RegistryError) || e.status === undefined) throw e;
    // ghcr.io and Docker Hub have no catalog: only the current products' repositories are seen.
    notes.push(`the registry lists no catalog (HTTP ${e.status}): only the current products' repositories and the cache were read`);
  }
  return [...repos].sort();
}

function dueHistory(root: string, rawDays: number, now: Date): string[] {
  const dir = path.join(root, RECORDS_DIR, HISTORY_DIR);
  if (rawDays === 0 || !existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => `${RECORDS_DIR}/${HISTORY_DIR}/${f.split(path.sep).join('/')}`)
    .filter((f) => {
      const m = monthOf(f);
      return m !== undefined && monthIsDue(m, now, rawDays);
    })
    .sort();
}

export interface GcReport {
  dryRun: boolean;
  registry: string;
  keepDays: number;
  repositories: { repository: string; tagsBefore: number; tagsAfter: number }[];
  decisions: RetentionDecision[];
  deleted: number;
  history: string[];
  notes: string[];
}

async function deleteAll(client: RegistryClient, s: Scope, decisions: RetentionDecision[]): Promise<number> {
  const seen = new Set<string>();
  let n = 0;
  for (const d of decisions) {
    if (d.action !== 'delete' || seen.has(`${d.repository}@${d.digest}`)) continue;
    seen.add(`${d.repository}@${d.digest}`);
    try {
      await client.deleteManifest(`${s.host}/${d.repository}@${d.digest}`);
      n++;
    } catch (e) {
      if (e instanceof RegistryError && e.status === 405) {
        throw new UserError(
          `registry ${s.host} refuses manifest deletes (HTTP 405): a distribution registry needs storage.delete enabled in its config (ghcr.io deletes package versions through the GitHub REST API only). ${n} manifests were deleted before.`,
          EXIT.failed,
        );
      }
      throw e;
    }
  }
  return n;
}

export async function gcCommand(ctx: CommandContext, client?: RegistryClient): Promise<number> {
  const factory = await ctx.load();
  const registry = typeof ctx.values.registry === 'string' ? ctx.values.registry : process.env.REGISTRY;
  if (!registry)
    throw new UserError('factory gc needs the registry: --registry host[/namespace] or $REGISTRY (the same value the builds push to).', EXIT.usage);
  const s = scopeOf(registry, process.env.CACHE_REPO || undefined);
  const c = client ?? new RegistryClient({ credentials: dockerConfigCredentials(), insecureRegistries: factory.policy.registry.insecure ? [s.host] : [] });
  const dryRun = Boolean(ctx.values['dry-run']);
  const keepDays = factory.policy.retention.keepDays;
  const now = new Date();
  const refs = currentRefs(factory, s);
  const notes: string[] = [];
  let repos: InventoryRepo[];
  try {
    const names = await repositories(c, s, [...new Set(factory.products.map((p) => repoPath(s, p.product.doc.image)))], notes);
    repos = await mapLimit(names, 2, (r) => inventoryRepo(c, s, r));
  } catch (e) {
    if (e instanceof RegistryError) throw new UserError(`factory gc: ${e.message}. Nothing was deleted.`, EXIT.failed);
    throw e;
  }
  const decisions = retentionDecisions(repos, {
    cacheRepository: s.cacheRepository,
    currentKeyTags: refs.keyTags,
    currentCacheTags: refs.cacheTags,
    publishedTags: refs.published,
    keepDays,
    now,
  });
  let deleted = 0;
  try {
    if (!dryRun) deleted = await deleteAll(c, s, decisions);
  } catch (e) {
    if (e instanceof RegistryError) throw new UserError(`factory gc: ${e.message}`, EXIT.failed);
    throw e;
  }
  const gone = new Set(decisions.filter((d) => d.action === 'delete').map((d) => `${d.repository}@${d.digest}`));
  const history = dryRun
    ? dueHistory(ctx.root, factory.policy.history.rawDays, now)
    : applyHistory(ctx.root, [], { recordsDir: RECORDS_DIR, rawDays: factory.policy.history.rawDays, now });
  const report: GcReport = {
    dryRun,
    registry,
    keepDays,
    repositories: repos.map((r) => ({
      repository: r.repository,
      tagsBefore: r.tags.length,
      tagsAfter: r.tags.filter((t) => !gone.has(`${r.repository}@${t.digest}`)).length,
    })),
    decisions,
    deleted,
    history,
    notes,
  };
  if (ctx.json) printJson(ctx.io, report);
  else printReport(ctx, report);
  return EXIT.ok;
}

function printReport(ctx: CommandContext, r: GcReport): void {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  for (const d of r.decisions) {
    const what = `${d.repository}:${d.tag || d.digest.slice(0, 19)}`;
    ctx.io.out(`${d.action === 'delete' ? paint(ctx.io, 'red', r.dryRun ? 'would delete' : 'delete') : paint(ctx.io, 'dim', 'keep')}  ${what}  (${d.why})`);
  }
  for (const repo of r.repositories) ctx.io.out(paint(ctx.io, 'dim', `${repo.repository}: ${repo.tagsBefore} tags -> ${repo.tagsAfter}`));
  for (const f of r.history) ctx.io.out(`${r.dryRun ? 'would fold' : 'folded'} ${f} (raw history past Policy history.rawDays, aggregated per month)`);
  for (const n of r.notes) ctx.io.err(`note: ${n}`);
  const count = r.decisions.filter((d) => d.action === 'delete').length;
  ctx.io.out(
    `${paint(ctx.io, 'green', 'gc')}: ${verb} ${count} manifest${count === 1 ? '' : 's'}, kept ${r.decisions.length - count} candidates (keep ${r.keepDays} days).`,
  );
}
