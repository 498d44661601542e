// Typed data passed between the pure steps: load -> validate -> resolve -> plan -> generate.
// Nothing in src/core does I/O; the edges (CLI, action, sandbox) read the tree into
// SourceFile[] and write OutputFile[].
import type { Base, Fragment, LockFile, Manifest, Policy, Pool, Product, Template, Test } from './schema.js';

export type PlatformName = 'linux/amd64' | 'linux/arm64';
export type AcceleratorName = 'cpu' | 'cuda';

/** One file of the factory tree; `path` is repository-relative with forward slashes. */
export interface SourceFile {
  path: string;
  bytes: Uint8Array;
  /**
   * Set when the tree entry is a symbolic link: its target as written (never followed by the
   * reader; the loader checks it stays inside its directory). `bytes` is then empty.
   */
  link?: string;
}

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable machine code, e.g. "schema", "yaml", "unknown-fragment", "cycle". */
  code: string;
  message: string;
  /** The field path, e.g. "fragments[2]" or "tests[0].exit". */
  field?: string;
  /** What the user should do about it. */
  hint?: string;
  location?: SourceLocation;
}

/** Thrown (or returned) when a step finds user errors; carries every problem found. */
export class FactoryError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
    this.name = 'FactoryError';
    this.diagnostics = diagnostics;
  }
}

/** A document as loaded, with where it came from (for diagnostics and source maps). */
export interface Located<T> {
  doc: T;
  file: string;
  /** Location of the document start; fields are located through `locate`. */
  location: SourceLocation;
  /** Location of a field path such as ["fragments", 2]; falls back to the document start. */
  locate(path: readonly (string | number)[]): SourceLocation;
}

/** A template version on disk: templates/<name>/<version>/. */
export interface TemplateSource {
  meta: Located<Template>;
  dir: string;
  /** Path of Dockerfile.ejs and its text. */
  dockerfile: { path: string; text: string };
  /** Every file of the version directory, for the content digest. */
  files: SourceFile[];
  /** sha256:<hex> over the sorted file list (paths and bytes). */
  digest: string;
}

/** A fragment version on disk: fragments/<name>/<version>/. */
export interface FragmentSource {
  meta: Located<Fragment>;
  dir: string;
  /** Path of Dockerfile.ejs (the snippet) and its text. */
  snippet: { path: string; text: string };
  /** Files under files/ that the snippet may COPY (context-relative paths). */
  files: SourceFile[];
  /** Every file of the version directory, for the content digest. */
  allFiles: SourceFile[];
  digest: string;
}

/** The whole tree, loaded and schema-validated. */
export interface LoadedFactory {
  products: Located<Product>[];
  manifests: Located<Manifest>[];
  pools: Located<Pool>[];
  bases: Located<Base>[];
  /** At most one is valid; resolve reports a second. */
  policies: Located<Policy>[];
  templates: TemplateSource[];
  fragments: FragmentSource[];
  lock?: Located<LockFile>;
}

/** One point of a manifest's matrix. */
export interface Variant {
  /** Readable, stable: "python3.11", "python3.12-cuda12.4", or "default" without a matrix. */
  name: string;
  /** Matrix values of this point, keys sorted. */
  matrix: Record<string, string>;
  /** Build args after {matrix.KEY} substitution: fragment defaults < manifest args. */
  args: Record<string, string>;
}

/** A resolved product: everything needed to build all of its variants. */
export interface ResolvedProduct {
  /** "llm-runtime@1.4.0" */
  id: string;
  product: Located<Product>;
  manifest: Located<Manifest>;
  template: TemplateSource;
  /** Fragments in build order. */
  fragments: FragmentSource[];
  base: { name: string; image: string; digest?: string };
  variants: Variant[];
}

/** Variant x platform: one bake target. */
export interface Target {
  /** Bake target name: "llm-runtime-python3_11-amd64". [A-Za-z0-9_-] only. */
  name: string;
  /** "llm-runtime@1.4.0:python3.11" */
  id: string;
  product: ResolvedProduct;
  variant: Variant;
  platform: PlatformName;
  /** "amd64" | "arm64" */
  arch: string;
  accelerator: AcceleratorName;
  pool: Located<Pool>;
  /** Image tags (repository path + tag, without the registry), e.g. "factory/llm-runtime:1.4.0-python3.11-amd64". */
  tags: string[];
  /** The multi-arch tags the merge job will publish, e.g. "factory/llm-runtime:1.4.0-python3.11". */
  mergedTags: string[];
}

export interface ResolvedFactory {
  loaded: LoadedFactory;
  products: ResolvedProduct[];
  /** Sorted by name; names unique. */
  targets: Target[];
  pools: Located<Pool>[];
  /** The factory's Policy document, or the defaults when the factory has none. */
  policy: Policy;
}

/** A rendered Dockerfile line mapped back to where it was written. */
export interface SourceMapEntry {
  /** 1-based line in the rendered Dockerfile */
  line: number;
  file: string;
  /** 1-based line in `file` */
  sourceLine: number;
  /** fragment ref (name@version) or template ref that produced it */
  origin: string;
}

export interface RenderedDockerfile {
  /** Repository-relative output path, e.g. "build/llm-runtime/1.4.0/python3.11/Dockerfile". */
  path: string;
  text: string;
  /** One entry per rendered line. */
  sourceMap: SourceMapEntry[];
  /** Stage names in order, e.g. ["base", "security-hardening", ..., "final"]. */
  stages: string[];
}

/** A generated file; written atomically by the edge. */
export interface OutputFile {
  path: string;
  text: string;
}

export type { Base, Fragment, LockFile, Manifest, Pool, Product, Template, Test };
