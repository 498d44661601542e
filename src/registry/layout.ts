// An OCI image layout directory (what BuildKit's `type=oci,tar=false` export writes): the same
// reads by digest as a registry repository, from files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeManifest, ManifestFormatError } from './oci.js';
import type { BlobSource, Descriptor, Manifest } from './types.js';

export class LayoutSource implements BlobSource {
  constructor(readonly dir: string) {}

  private file(digest: string): string {
    const [alg, hex] = digest.split(':');
    return path.join(this.dir, 'blobs', alg!, hex!);
  }

  /** The top descriptor of index.json (the image index or manifest BuildKit exported). */
  root(): Descriptor {
    const file = path.join(this.dir, 'index.json');
    const m = this.decode(fs.readFileSync(file), file);
    const d = m.kind === 'index' ? m.index.manifests[0] : undefined;
    if (!d) throw new Error(`${file} lists no manifest`);
    return d;
  }

  async manifest(digest: string): Promise<Manifest> {
    const file = this.file(digest);
    return this.decode(await fs.promises.readFile(file), file);
  }

  async blob(digest: string): Promise<Uint8Array> {
    return fs.promises.readFile(this.file(digest));
  }

  private decode(raw: Uint8Array, file: string): Manifest {
    try {
      return decodeManifest(raw).manifest;
    } catch (e) {
      if (e instanceof ManifestFormatError) throw new Error(`${file}: ${e.message}`);
      throw e;
    }
  }
}
