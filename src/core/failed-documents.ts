// Documents that exist but failed to load (a YAML error, a schema error, a version directory
// without a readable template.yaml or fragment.yaml). The loader adds them; the resolver asks
// before it reports a reference as unknown, so one broken document is one error, not a cascade.
import { splitRef } from './ids.js';

/** The kinds of document a reference can name. */
export type DocumentKind = 'template' | 'fragment' | 'product' | 'manifest' | 'pool' | 'policy' | 'base';

export class FailedDocuments {
  private anything = false;
  /** `kind:name@version` (either part may be `*`: not known), `kind:name` for bases, `kind:*` for a whole kind. */
  private readonly ids = new Set<string>();

  /** A file that could not be parsed at all: any reference may point into it. */
  addAnything(): void {
    this.anything = true;
  }

  /** A whole kind: its documents have no name (pools, the policy). */
  addKind(kind: DocumentKind): void {
    this.ids.add(`${kind}:*`);
  }

  /** A base (bases have a name, no version). */
  addBase(name: string): void {
    this.ids.add(`base:${name}`);
  }

  /** A versioned document; `*` for a name or version that could not be read. */
  addVersioned(kind: DocumentKind, name: string, version: string): void {
    this.ids.add(`${kind}:${name}@${version}`);
  }

  /**
   * Whether a reference may point at a document that failed to load: `ref` as the resolver has
   * it (`name@version`, a base's name, `name@*` for any version of a name, `*` for any pool).
   */
  has(kind: DocumentKind, ref: string): boolean {
    if (this.anything) return true;
    const parts = splitRef(ref);
    const name = parts?.name ?? ref;
    if (this.ids.has(`${kind}:${ref}`) || this.ids.has(`${kind}:${name}@*`) || this.ids.has(`${kind}:*@*`) || this.ids.has(`${kind}:*`)) return true;
    // "name@*": any version of the name (fragment requires are by name).
    if (parts?.version === '*') return [...this.ids].some((f) => f.startsWith(`${kind}:${name}@`));
    return false;
  }

  /** What was added, sorted (`*` alone when anything may have failed), for tests and messages. */
  list(): string[] {
    return [...(this.anything ? ['*'] : []), ...[...this.ids].sort()];
  }
}
