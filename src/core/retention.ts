// Retention, pure: which registry tags `factory gc` deletes. The inventory (tags, digests,
// creation times, index children, referrers) comes in; a decision per tag comes out.
//
// Only two kinds of tag are ever candidates: `bk-<key>` tags in the product repositories and the
// per-target tags of the cache repository. Every other tag (a product's published tags, a
// promoted tag, a cosign signature, anything we did not write) is kept, and so is every digest
// it reaches: the index it names, that index's children, and the referrers (signatures and
// attestations) of each. A candidate is deleted only when no current target uses it, it is older
// than the policy's keepDays, and its digest is reachable from nothing kept: the registry's
// DELETE removes a manifest with every tag that names it, so a shared digest would take a kept
// tag with it. The signatures and attestations of a deleted digest go with it.

export interface InventoryTag {
  tag: string;
  digest: string;
  /** Creation time (ISO 8601) of the image, or of the newest image of an index; undefined when unknown. */
  created?: string;
  /** Manifests an index names (platform images, attestation manifests). */
  children: string[];
}

export interface InventoryRepo {
  /** Repository path inside the registry, e.g. "factory/llm-runtime". */
  repository: string;
  tags: InventoryTag[];
  /** digest -> manifests whose subject it is (the referrers API; empty when the registry has none). */
  referrers: Record<string, string[]>;
}

export interface RetentionRules {
  /** Repository path of the build cache (CACHE_REPO without the registry). */
  cacheRepository: string;
  /** repository -> the bk-<key> tags of the current targets. */
  currentKeyTags: ReadonlyMap<string, ReadonlySet<string>>;
  /** The cache tags current targets read and write (and the shared per-arch ones). */
  currentCacheTags: ReadonlySet<string>;
  /** repository -> the tags products publish (merged and per-arch tags). */
  publishedTags: ReadonlyMap<string, ReadonlySet<string>>;
  keepDays: number;
  now: Date;
}

export type RetentionAction = 'delete' | 'keep';

export interface RetentionDecision {
  repository: string;
  tag: string;
  digest: string;
  action: RetentionAction;
  /** One line: why it is kept or deleted. */
  why: string;
}

const KEY_PREFIX = 'bk-';
const DAY_MS = 86_400_000;
/** cosign's tag scheme: sha256-<hex>.sig / .att / .sbom name the objects of sha256:<hex>. */
const COSIGN_TAG = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/;

function isCandidate(repo: InventoryRepo, tag: string, rules: RetentionRules): boolean {
  if (rules.publishedTags.get(repo.repository)?.has(tag)) return false;
  if (repo.repository === rules.cacheRepository) return !tag.startsWith('shared-') && !COSIGN_TAG.test(tag);
  return tag.startsWith(KEY_PREFIX);
}

/** Why a candidate stays, or undefined when it may go (reachability is checked after). */
function keepReason(repo: InventoryRepo, t: InventoryTag, rules: RetentionRules): string | undefined {
  const cache = repo.repository === rules.cacheRepository;
  if (cache ? rules.currentCacheTags.has(t.tag) : rules.currentKeyTags.get(repo.repository)?.has(t.tag)) {
    return cache ? 'cache of a current target' : 'build key of a current target';
  }
  if (t.created === undefined) return 'creation time unknown';
  const ageDays = (rules.now.getTime() - Date.parse(t.created)) / DAY_MS;
  if (!(ageDays > rules.keepDays)) return `${Math.floor(Math.max(0, ageDays))} days old, kept ${rules.keepDays}`;
  return undefined;
}

/** Every digest reachable from the given roots: index children and referrers, transitively. */
function reachable(repo: InventoryRepo, roots: Iterable<string>): Set<string> {
  const children = new Map<string, string[]>();
  for (const t of repo.tags) children.set(t.digest, t.children);
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    stack.push(...(children.get(d) ?? []), ...(repo.referrers[d] ?? []));
    // cosign's tags are referrers too, named rather than linked.
    for (const t of repo.tags) if (t.tag.startsWith(`${d.replace(':', '-')}.`) && COSIGN_TAG.test(t.tag)) stack.push(t.digest);
  }
  return seen;
}

function decideRepo(repo: InventoryRepo, rules: RetentionRules): RetentionDecision[] {
  const going = new Map<string, string>(); // tag -> why
  const kept = new Map<string, string>();
  for (const t of repo.tags) {
    if (COSIGN_TAG.test(t.tag)) continue; // decided by what they sign, below
    if (!isCandidate(repo, t.tag, rules)) continue;
    const why = keepReason(repo, t, rules);
    if (why) kept.set(t.tag, why);
    else going.set(t.tag, `no current target uses it and it is older than ${rules.keepDays} days`);
  }
  const rootsKept = repo.tags.filter((t) => !going.has(t.tag) && !COSIGN_TAG.test(t.tag)).map((t) => t.digest);
  // Signatures of a kept digest are kept through reachability; those of a digest that goes, go.
  const protectedDigests = reachable(repo, rootsKept);
  const out: RetentionDecision[] = [];
  const goingDigests = new Set<string>();
  for (const t of repo.tags) {
    const why = going.get(t.tag);
    if (why === undefined) continue;
    if (protectedDigests.has(t.digest)) {
      out.push({
        repository: repo.repository,
        tag: t.tag,
        digest: t.digest,
        action: 'keep',
        why: 'its digest is also named by a kept tag or reached from one',
      });
    } else {
      out.push({ repository: repo.repository, tag: t.tag, digest: t.digest, action: 'delete', why });
      goingDigests.add(t.digest);
    }
  }
  for (const t of repo.tags) {
    const m = COSIGN_TAG.exec(t.tag);
    if (!m) continue;
    const subject = `sha256:${m[1]}`;
    if (goingDigests.has(subject) && !protectedDigests.has(t.digest)) {
      out.push({
        repository: repo.repository,
        tag: t.tag,
        digest: t.digest,
        action: 'delete',
        why: `signature or attestation of ${subject.slice(0, 19)}…, which is deleted`,
      });
      goingDigests.add(t.digest);
    }
  }
  // Referrers without a tag (OCI referrers API) of a deleted digest.
  for (const d of [...goingDigests]) {
    for (const r of repo.referrers[d] ?? []) {
      if (protectedDigests.has(r) || goingDigests.has(r)) continue;
      out.push({ repository: repo.repository, tag: '', digest: r, action: 'delete', why: `referrer of ${d.slice(0, 19)}…, which is deleted` });
      goingDigests.add(r);
    }
  }
  for (const [tag, why] of kept) {
    const t = repo.tags.find((x) => x.tag === tag)!;
    out.push({ repository: repo.repository, tag, digest: t.digest, action: 'keep', why });
  }
  return out;
}

/** Decisions for every candidate tag (and every signature that goes with one), sorted. */
export function retentionDecisions(repos: readonly InventoryRepo[], rules: RetentionRules): RetentionDecision[] {
  return repos
    .flatMap((r) => decideRepo(r, rules))
    .sort((a, b) =>
      a.repository !== b.repository ? (a.repository < b.repository ? -1 : 1) : a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : a.digest < b.digest ? -1 : 1,
    );
}
