// Which images the factory may reuse or publish: an image under a build-key tag (`bk-<key>`) is
// only a hit when its signature verifies as the factory's (the workflow identity on a trusted
// ref, or the given key) and its provenance names the factory's repository and a commit. The
// tag itself is mutable and the keys are public (`factory plan --json`), so without this anyone
// who can push to the registry could plant an image for the next run to publish.
import { inspectImage } from '../action/image.js';
import type { ImageInspection } from '../registry/client.js';
import { RegistryError } from '../registry/client.js';
import type { BlobSource, Descriptor } from '../registry/types.js';
import type { KeyCheck } from '../core/key-check.js';
import { provenanceCheck, sourceOf, type Signer } from './verify.js';

/** The registry reads a trust check needs (RegistryClient has them). */
export interface ImageReader {
  resolve(ref: string): Promise<Descriptor>;
  inspect(ref: string): Promise<ImageInspection>;
  source(ref: string): BlobSource;
}

export interface Trust {
  signer: Signer;
  /** Who must have signed, for messages: "the factory workflow of acme/factory on refs/heads/main". */
  signedBy: string;
  /** The repository URL the provenance must name (https://github.com/OWNER/NAME); any when absent. */
  sourceUrl?: string;
}

const normalizeUrl = (u: string): string =>
  u
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();

function repositoryOf(ref: string): string {
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/** Why the image at `repo@digest` may not be trusted, or undefined when it may. */
export async function untrustedReason(reader: ImageReader, repo: string, digest: string, trust: Trust): Promise<string | undefined> {
  const pinned = `${repo}@${digest}`;
  // Read first: a registry that does not answer is a registry problem, not a missing signature.
  const inspection = await reader.inspect(pinned);
  const sig = await trust.signer.verify(pinned);
  if (!sig.ok) return `${digest} is not signed by ${trust.signedBy} (${sig.detail})`;
  for (const img of inspection.images) {
    const facts = await inspectImage(reader.source(pinned), inspection.digest, img.platform);
    const prov = provenanceCheck(img.platform, img, facts);
    if (!prov.ok) return `${img.platform}: ${prov.detail}`;
    // BuildKit's vcs source is the checkout's remote (a mirror or a local clone on some runners);
    // the source label is the workflow's own repository URL. Either naming the factory will do.
    const names = [sourceOf(img, facts).source, img.labels['org.opencontainers.image.source'] ?? ''];
    if (trust.sourceUrl && !names.some((n) => normalizeUrl(n) === normalizeUrl(trust.sourceUrl!)))
      return `${img.platform}: its provenance names ${names[0]}, not ${trust.sourceUrl}`;
  }
  return undefined;
}

/**
 * The plan's build-key lookup: nothing under the tag, a trusted image (its digest), or why the
 * image there is refused. Transport and auth failures throw (the plan then warns and builds).
 */
export async function checkKeyImage(reader: ImageReader, ref: string, trust: Trust): Promise<KeyCheck> {
  let desc: Descriptor;
  try {
    desc = await reader.resolve(ref);
  } catch (e) {
    if (e instanceof RegistryError && e.status === 404) return { found: false };
    throw e;
  }
  const why = await untrustedReason(reader, repositoryOf(ref), desc.digest, trust);
  return why ? { found: true, untrusted: why, digest: desc.digest } : { found: true, digest: desc.digest };
}
