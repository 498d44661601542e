// In-memory ResolvedFactory objects for the render/bake/test-runner unit tests: small, explicit,
// independent of the loader and resolver (those have their own tests and fixtures).
import type {
  Base,
  Fragment,
  FragmentSource,
  Located,
  Manifest,
  Pool,
  Product,
  ResolvedFactory,
  ResolvedProduct,
  Target,
  Template,
  TemplateSource,
  Variant,
} from '../../src/core/types.js';
import { Policy } from '../../src/core/schema.js';

/** A Located whose fields are found by their top-level key in a YAML-ish rendering of the doc. */
export function located<T extends object>(file: string, doc: T): Located<T> {
  const lines = Object.keys(doc).map((k) => `${k}: ${JSON.stringify((doc as Record<string, unknown>)[k])}`);
  return {
    doc,
    file,
    location: { file, line: 1, column: 1 },
    locate(path) {
      const i = lines.findIndex((l) => l.startsWith(`${String(path[0])}:`));
      return { file, line: i < 0 ? 1 : i + 1, column: 1 };
    },
  };
}

export function template(name: string, version: string, text: string, extra: Partial<Template> = {}): TemplateSource {
  const dir = `templates/${name}/${version}`;
  const doc: Template = {
    kind: 'Template',
    name,
    version,
    base: 'debian',
    slots: ['security', 'core', 'app'],
    platforms: ['linux/amd64', 'linux/arm64'],
    accelerators: ['cpu', 'cuda'],
    user: 'app',
    ...extra,
  };
  return { meta: located(`${dir}/template.yaml`, doc), dir, dockerfile: { path: `${dir}/Dockerfile.ejs`, text }, files: [], digest: 'sha256:0' };
}

export function fragment(name: string, version: string, slot: string, text: string, extra: Partial<Fragment> = {}): FragmentSource {
  const dir = `fragments/${name}/${version}`;
  const doc: Fragment = {
    kind: 'Fragment',
    name,
    version,
    slot,
    requires: [],
    platforms: ['linux/amd64', 'linux/arm64'],
    accelerators: ['cpu', 'cuda'],
    tests: [{ name: `${name} marker`, file: `/opt/${name}`, exists: true }],
    ...extra,
  };
  return { meta: located(`${dir}/fragment.yaml`, doc), dir, snippet: { path: `${dir}/Dockerfile.ejs`, text }, files: [], allFiles: [], digest: 'sha256:0' };
}

export function pool(name: string, platform: Pool['platform'], extra: Partial<Pool> = {}): Located<Pool> {
  return located('manifests/pools.yaml', {
    kind: 'Pool',
    name,
    platform,
    accelerator: 'cpu',
    'runs-on': 'ubuntu-24.04',
    'self-hosted': false,
    'max-parallel': 4,
    'timeout-minutes': 60,
    retries: 1,
    cache: 'registry',
    ...extra,
  } satisfies Pool);
}

export function base(name: string, image: string): Located<Base> {
  return located('manifests/bases.yaml', { kind: 'Base', name, image, platforms: ['linux/amd64', 'linux/arm64'] } satisfies Base);
}

export interface ProductInit {
  name: string;
  version?: string;
  template: TemplateSource;
  fragments: FragmentSource[];
  variants?: Variant[];
  base?: ResolvedProduct['base'];
  product?: Partial<Product>;
}

export function product(init: ProductInit): ResolvedProduct {
  const version = init.version ?? '1.0.0';
  const manifest: Manifest = {
    kind: 'Manifest',
    name: init.name,
    version,
    template: `${init.template.meta.doc.name}@${init.template.meta.doc.version}`,
    fragments: init.fragments.map((f) => `${f.meta.doc.name}@${f.meta.doc.version}`),
  };
  const doc: Product = {
    kind: 'Product',
    name: init.name,
    version,
    manifest: `${init.name}@${version}`,
    image: `factory/${init.name}`,
    tags: ['{version}-{variant}'],
    platforms: ['linux/amd64', 'linux/arm64'],
    accelerator: 'cpu',
    tests: [],
    ...init.product,
  };
  return {
    id: `${init.name}@${version}`,
    product: located(`manifests/${init.name}.yaml`, doc),
    manifest: located(`manifests/${init.name}.yaml`, manifest),
    template: init.template,
    fragments: init.fragments,
    base: init.base ?? { name: 'debian', image: 'docker.io/library/debian:bookworm-slim' },
    variants: init.variants ?? [{ name: 'default', matrix: {}, args: {} }],
  };
}

/** Every variant x platform of the products, as the resolver names them. */
export function factory(products: ResolvedProduct[], pools: Located<Pool>[], bases: Located<Base>[] = [base('debian', 'docker.io/library/debian:bookworm-slim')]): ResolvedFactory {
  const targets: Target[] = [];
  for (const p of products) {
    for (const v of p.variants) {
      for (const platform of p.product.doc.platforms) {
        const arch = platform.slice(platform.indexOf('/') + 1);
        const accel = p.product.doc.accelerator;
        const pl = pools.find((x) => x.doc.platform === platform && x.doc.accelerator === accel);
        if (!pl) throw new Error(`fixture: no pool for ${platform}/${accel}`);
        const tag = `${p.product.doc.image}:${p.product.doc.version}-${v.name}`;
        targets.push({
          name: `${p.product.doc.name}-${v.name}-${arch}`.replace(/[^A-Za-z0-9_-]/g, '_'),
          id: `${p.id}:${v.name}`,
          product: p,
          variant: v,
          platform,
          arch,
          accelerator: accel,
          pool: pl,
          tags: [`${tag}-${arch}`],
          mergedTags: [tag],
        });
      }
    }
  }
  targets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    loaded: { products: products.map((p) => p.product), manifests: products.map((p) => p.manifest), pools, bases, policies: [], templates: [], fragments: [] },
    products,
    targets,
    pools,
    policy: Policy.parse({ kind: 'Policy' }),
  };
}
