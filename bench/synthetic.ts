// Synthetic factories of a given size, in memory, in the same formats as the sample factory.
// Used by the generate and plan benchmarks.
import type { SourceFile } from '../src/core/types.js';

const enc = new TextEncoder();
const file = (path: string, text: string): SourceFile => ({ path, bytes: enc.encode(text) });

const SLOTS = ['security', 'core', 'light', 'app'] as const;

/**
 * A factory with about `targets` targets: products x 5 variants x 2 platforms, sharing a
 * pool of 12 fragments per slot (two versions of each) and 2 templates.
 */
export function syntheticFactory(targets: number): SourceFile[] {
  const variantsPerProduct = 5;
  const products = Math.max(1, Math.ceil(targets / (variantsPerProduct * 2)));
  const files: SourceFile[] = [];
  files.push(
    file(
      'manifests/pools.yaml',
      [
        'kind: Pool\nname: amd64\nplatform: linux/amd64\nruns-on: ubuntu-24.04\n',
        'kind: Pool\nname: arm64\nplatform: linux/arm64\nruns-on: ubuntu-24.04-arm\n',
      ].join('---\n'),
    ),
  );
  files.push(file('manifests/bases.yaml', 'kind: Base\nname: debian\nimage: docker.io/library/debian:bookworm-slim\n'));
  for (const t of ['alpha', 'beta']) {
    files.push(
      file(
        `templates/${t}/1.0.0/template.yaml`,
        `kind: Template\nname: ${t}\nversion: 1.0.0\nbase: debian\nslots: [${SLOTS.join(', ')}]\naccelerators: [cpu]\nuser: app\n`,
      ),
    );
    files.push(
      file(
        `templates/${t}/1.0.0/Dockerfile.ejs`,
        `# syntax=docker/dockerfile:1\n<%- slot('security') %>\n<%- slot('core') %>\n<%- slot('light') %>\n<%- slot('app') %>\n`,
      ),
    );
  }
  const fragmentsPerSlot = 12;
  for (const slot of SLOTS) {
    for (let i = 0; i < fragmentsPerSlot; i++) {
      for (const version of ['1.0.0', '1.1.0']) {
        const name = `${slot}-f${i}`;
        const dir = `fragments/${name}/${version}`;
        files.push(
          file(
            `${dir}/fragment.yaml`,
            `kind: Fragment\nname: ${name}\nversion: ${version}\nslot: ${slot}\nargs:\n  ${slot.toUpperCase()}_LEVEL: "${i}"\ntests:\n  - name: marker exists\n    file: /opt/${name}\n  - name: marker readable\n    command: cat /opt/${name}\n    stdout: { contains: "${version}" }\n`,
          ),
        );
        files.push(file(`${dir}/Dockerfile.ejs`, `ARG ${slot.toUpperCase()}_LEVEL\nRUN echo "${name} ${version} <%= matrix.flavor %>" > /opt/${name}\n`));
      }
    }
  }
  const docs: string[] = [];
  for (let p = 0; p < products; p++) {
    const name = `product-${String(p).padStart(5, '0')}`;
    const pick = (slot: string, k: number) => `${slot}-f${(p * (k + 3) + k) % fragmentsPerSlot}@${p % 3 === 0 ? '1.1.0' : '1.0.0'}`;
    const fragments = SLOTS.map((s, k) => pick(s, k));
    docs.push(
      `kind: Manifest\nname: ${name}\nversion: 1.0.0\ntemplate: ${p % 2 ? 'alpha' : 'beta'}@1.0.0\nfragments: [${fragments.join(', ')}]\nmatrix:\n  flavor: [${Array.from({ length: variantsPerProduct }, (_, v) => `v${v}`).join(', ')}]\n`,
    );
    docs.push(`kind: Product\nname: ${name}\nversion: 1.0.0\nmanifest: ${name}@1.0.0\nimage: synthetic/${name}\n`);
  }
  files.push(file('manifests/products.yaml', docs.join('---\n')));
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
