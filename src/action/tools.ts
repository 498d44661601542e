// The outside tools a build uses, as interfaces the phases take (docker/actions-toolkit's
// `new Bake({ buildx })` shape), so each phase has a unit test with fakes; `realTools()` wires
// the real ones: buildx, the registry (or the OCI layout of an unpushed build), and the
// Actions artifact service, git.
import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/docker-config.js';
import { LayoutSource } from '../registry/layout.js';
import { parseReference } from '../registry/reference.js';
import { upload } from './artifact.js';
import { Buildx, exec, type ExecOptions, type ExecResult } from './buildx.js';
import { inspectImage, type ImageFacts } from './image.js';
import type { BakePrinter } from './select.js';

export interface BakeRunner extends BakePrinter {
  /** How the command reads in the log, e.g. "docker buildx". */
  readonly command: string;
  run(args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export interface ImageReader {
  /** Size, layers and attestations of a pushed image (`ref` names its repository). */
  pushed(ref: string, digest: string, platform: string, insecure: boolean): Promise<ImageFacts>;
  /** The same of an image exported as an OCI layout directory. */
  layout(dir: string, platform: string): Promise<ImageFacts>;
}

export interface ArtifactStore {
  upload(name: string, files: string[], rootDirectory: string, retentionDays?: number): Promise<unknown>;
}

export interface GitReader {
  /** The commit time (seconds since the epoch) of HEAD in `dir`; undefined outside a repository. */
  commitTime(dir: string): Promise<string | undefined>;
}

export interface Tools {
  buildx: BakeRunner;
  images: ImageReader;
  artifacts: ArtifactStore;
  git: GitReader;
}

export const gitReader: GitReader = {
  async commitTime(dir) {
    try {
      const r = await exec('git', ['log', '-1', '--format=%ct'], { cwd: dir });
      const t = r.stdout.trim();
      return r.exitCode === 0 && /^\d+$/.test(t) ? t : undefined;
    } catch {
      return undefined; // no git on the runner: the bake file's default stands
    }
  },
};

export const registryImages: ImageReader = {
  async pushed(ref, digest, platform, insecure) {
    const r = parseReference(ref);
    const client = new RegistryClient({ credentials: dockerConfigCredentials(), insecureRegistries: insecure ? [r.registry] : [] });
    return inspectImage(client.source(r), digest, platform);
  },
  async layout(dir, platform) {
    const layout = new LayoutSource(dir);
    return inspectImage(layout, layout.root().digest, platform);
  },
};

export async function realTools(): Promise<Tools> {
  return { buildx: await Buildx.find(), images: registryImages, artifacts: { upload }, git: gitReader };
}
