// The outside tool cosign, for verification: by a public key (offline tests sign with a
// generated key pair and no transparency log) or keyless, by the identity of the repository's
// factory workflow as GitHub's OIDC issuer vouched for it when it signed.
import { spawn } from 'node:child_process';
import type { Signer } from './verify.js';

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface CosignOptions {
  cosign?: string;
  key?: string;
  /** Keyless: a regular expression over the certificate's identity (the workflow's ref). */
  identityRegexp?: string;
  issuer?: string;
  /** No transparency log lookup (signatures made without Rekor, e.g. on the sandbox). */
  ignoreTlog?: boolean;
  allowHttp?: boolean;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Keyless identity of a repository's generated factory workflows: factory.yml (the merge job
 * signs the manifest lists) or factory-pool.yml (a reusable workflow: Fulcio certifies the called
 * workflow, so the build legs' signatures name it). With `refs`, only runs on those refs count
 * (a trailing `*` matches any suffix); without, any ref.
 */
export function workflowIdentity(repository: string, refs?: readonly string[]): string {
  const prefix = `^https://github\\.com/${escapeRe(repository)}/\\.github/workflows/factory(-pool)?\\.yml@`;
  if (!refs || refs.length === 0) return prefix;
  const alts = [...new Set(refs)].sort().map((r) => (r.endsWith('*') ? `${escapeRe(r.slice(0, -1))}.*` : escapeRe(r)));
  return `${prefix}(${alts.join('|')})$`;
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ code: 127, out, err: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

export function cosignSigner(o: CosignOptions): Signer {
  const auth = o.key
    ? ['--key', o.key]
    : ['--certificate-identity-regexp', o.identityRegexp ?? '.', '--certificate-oidc-issuer', o.issuer ?? GITHUB_OIDC_ISSUER];
  return {
    async verify(ref) {
      const args = [
        'verify',
        ...auth,
        ...(o.ignoreTlog ? ['--insecure-ignore-tlog'] : []),
        ...(o.allowHttp ? ['--allow-http-registry'] : []),
        '--output',
        'json',
        ref,
      ];
      const r = await run(o.cosign ?? 'cosign', args);
      if (r.code === 127) return { ok: false, detail: `cannot run cosign (${r.err}): install it (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3)` };
      if (r.code !== 0) {
        const why =
          r.err
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l.startsWith('Error:') || /no (matching )?signatures/i.test(l))
            .at(-1) ??
          r.err.trim().split('\n').at(-1) ??
          '';
        return { ok: false, detail: why.replace(/^Error:\s*/, '').slice(0, 300) || `cosign exited ${r.code}` };
      }
      return { ok: true, detail: o.key ? `signed by the key ${o.key}` : `signed by ${o.identityRegexp ?? 'any identity'} (${o.issuer ?? GITHUB_OIDC_ISSUER})` };
    },
  };
}
