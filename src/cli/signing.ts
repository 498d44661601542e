// Who must have signed the images `factory plan --check-registry` reuses and `factory merge`
// publishes, from the command line, the environment the generated workflow sets and the Policy:
// - a public key: --verify-key FILE, or FACTORY_COSIGN_PUBLIC_KEY (the key itself, PEM: the
//   repository variable of a factory that signs with the FACTORY_COSIGN_KEY secret);
// - else keyless: this repository's factory workflows (--repository OWNER/NAME or
//   GITHUB_REPOSITORY) on a trusted ref (Policy signing.trusted-refs, plus the run's own ref).
// --insecure-ignore-tlog or FACTORY_COSIGN_TLOG=false: signatures made without Rekor.
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Policy } from '../core/schema.js';
import { isLoopbackHost } from '../registry/reference.js';
import { cosignSigner, workflowIdentity } from '../supply/cosign.js';
import type { Trust } from '../supply/trust.js';
import type { Signer } from '../supply/verify.js';
import { EXIT, UserError } from './errors.js';

export const SIGNING_OPTIONS = {
  'verify-key': { type: 'string', description: 'trust images signed with this cosign public key (default: FACTORY_COSIGN_PUBLIC_KEY, else keyless)' },
  repository: { type: 'string', description: 'OWNER/NAME whose factory workflows must have signed, keyless (default: GITHUB_REPOSITORY)' },
  'insecure-ignore-tlog': { type: 'boolean', description: 'accept signatures without a transparency log entry (default: FACTORY_COSIGN_TLOG=false)' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** A signer that refuses everything, saying how to name a signer. */
function noSigner(why: string): Signer {
  return { verify: async () => ({ ok: false, detail: why }) };
}

function keyFile(values: Values, root: string, env: NodeJS.ProcessEnv): string | undefined {
  const given = values['verify-key'];
  if (typeof given === 'string' && given) {
    const file = path.resolve(root, given);
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new UserError(
        `--verify-key ${given}: no such file (or not readable); give the cosign public key (cosign.pub) the images are signed with`,
        EXIT.failed,
      );
    }
    return file;
  }
  const pem = env.FACTORY_COSIGN_PUBLIC_KEY?.trim();
  if (!pem) return undefined;
  // cosign reads keys from files; the variable holds the key itself.
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'factory-cosign-')), 'cosign.pub');
  writeFileSync(file, `${pem}\n`);
  return file;
}

/** The trust the plan and merge check images against; `registryHost` decides plain HTTP. */
export function trustFrom(values: Values, policy: Policy, registryHost: string, root: string, env: NodeJS.ProcessEnv = process.env): Trust {
  const ignoreTlog = Boolean(values['insecure-ignore-tlog']) || env.FACTORY_COSIGN_TLOG === 'false';
  const allowHttp = isLoopbackHost(registryHost) || policy.registry.insecure;
  const repository = (typeof values.repository === 'string' && values.repository) || env.GITHUB_REPOSITORY;
  // Either way the provenance must name this repository, when it is known.
  const source = repository ? { sourceUrl: `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${repository}` } : {};
  const key = keyFile(values, root, env);
  if (key)
    return { signer: cosignSigner({ key, ignoreTlog, allowHttp }), signedBy: `the key ${values['verify-key'] ?? 'FACTORY_COSIGN_PUBLIC_KEY'}`, ...source };
  if (!repository) {
    return {
      signer: noSigner('no signer to trust: give --verify-key cosign.pub, or --repository OWNER/NAME for keyless signatures of its factory workflows'),
      signedBy: 'a known signer',
    };
  }
  const refs = [...policy.signing['trusted-refs'], ...(env.GITHUB_REF ? [env.GITHUB_REF] : [])];
  return {
    signer: cosignSigner({ identityRegexp: workflowIdentity(repository, refs), ignoreTlog, allowHttp }),
    signedBy: `the factory workflows of ${repository} on ${[...new Set(refs)].join(', ')}`,
    ...source,
  };
}
