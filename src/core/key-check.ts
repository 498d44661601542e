// What a build-key lookup found, the contract between the plan (which asks) and the edge that
// looks (src/supply/trust.ts: the registry and cosign): nothing under the tag, a reusable image
// by digest, or an image there that is refused, and why.
export type KeyCheck = { found: false } | { found: true; digest?: string } | { found: true; untrusted: string; digest?: string };
