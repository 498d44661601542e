import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayoutSource } from '../../src/registry/layout.js';
import { MEDIA_TYPES, sha256Digest } from '../../src/registry/oci.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-layout-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function put(bytes: Uint8Array): string {
  const digest = sha256Digest(bytes);
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return digest;
}
const json = (o: object) => new TextEncoder().encode(JSON.stringify(o));

const config = put(json({ architecture: 'amd64', os: 'linux' }));
const image = put(
  json({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: config, size: 1 }, layers: [] }),
);
const notManifest = put(json({ hello: 'world' }));

describe('LayoutSource', () => {
  it('reads the root descriptor, manifests and blobs by digest', async () => {
    fs.writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: image, size: 1 }] }),
    );
    const layout = new LayoutSource(dir);
    expect(layout.root().digest).toBe(image);
    const m = await layout.manifest(image);
    expect(m.kind === 'image' && m.image.config.digest).toBe(config);
    expect(JSON.parse(new TextDecoder().decode(await layout.blob(config)))).toEqual({ architecture: 'amd64', os: 'linux' });
  });

  it('names the file that is not a manifest', async () => {
    await expect(new LayoutSource(dir).manifest(notManifest)).rejects.toThrow(
      `${path.join(dir, 'blobs', 'sha256', notManifest.slice(7))}: unsupported manifest`,
    );
    fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    expect(() => new LayoutSource(dir).root()).toThrow(`${path.join(dir, 'index.json')} lists no manifest`);
  });
});
