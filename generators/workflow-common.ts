// What the two generated workflows share: the value types, the YAML rendering (version
// comments on pinned actions, why each permission is granted, blank lines between jobs), the
// Buildx and registry login steps and the artifact names.
import { Document, isMap, isPair, isScalar, visit } from 'yaml';
import { JOB_RESULT_ARTIFACT_PREFIX } from '../src/core/job-result.js';
import { ACTIONS, usesRef, versionComment } from './workflow-actions.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
export type Step = { [key: string]: Json | undefined };
export type Job = { [key: string]: Json | undefined };

export const expr = (e: string): string => `\${{ ${e} }}`;
export const RESULT_ARTIFACT_PREFIX = JOB_RESULT_ARTIFACT_PREFIX;

const PERMISSION_WHY: Record<string, string> = {
  'contents: read': 'check out the repository',
  'contents: write': 'push the records commit',
  'actions: read': "read this job's queue times (jobs API) for the record's queue-wait KPI",
  'packages: write': 'push images and manifest lists to ghcr.io',
  'pull-requests: write': 'comment the plan and results on the pull request',
  'pages: write': 'publish the dashboard and read-only API to GitHub Pages',
  'id-token: write': 'an OIDC token: keyless cosign signatures (Sigstore), or the GitHub Pages deploy check',
  'attestations: write': 'store GitHub artifact attestations of the published manifest lists',
};

/** The cosign release the workflows install (the one the tests sign and verify with). */
export const COSIGN_RELEASE = 'v3.1.3';
/** The signing step's script: checked in, run from the checkout (shellcheck-clean). */
export const SIGN_SCRIPT_PATH = 'scripts/workflow/sign.sh';

export function installCosign(): Step {
  return { name: 'Install cosign', uses: usesRef(ACTIONS.cosignInstaller), with: { 'cosign-release': COSIGN_RELEASE } };
}

/**
 * What verifying signatures needs (the plan's build-key lookups, the merge): a public key from
 * the repository variable for factories that sign with a key, else keyless by the workflow's
 * identity; FACTORY_COSIGN_TLOG=false for signatures made without a transparency log.
 */
export function verifyEnv(): Step {
  return { FACTORY_COSIGN_PUBLIC_KEY: expr('vars.FACTORY_COSIGN_PUBLIC_KEY'), FACTORY_COSIGN_TLOG: expr('vars.FACTORY_COSIGN_TLOG') };
}

/** The signing step (scripts/workflow/sign.sh): keyless, or with the FACTORY_COSIGN_KEY secret. */
export function signStep(name: string, args: string, allowHttp: boolean, extra: Step = {}): Step {
  return {
    name,
    ...extra,
    env: {
      ...(extra.env as Step | undefined),
      FACTORY_COSIGN_KEY: expr('secrets.FACTORY_COSIGN_KEY'),
      FACTORY_COSIGN_PASSWORD: expr('secrets.FACTORY_COSIGN_PASSWORD'),
      FACTORY_COSIGN_TLOG: expr('vars.FACTORY_COSIGN_TLOG'),
      ALLOW_HTTP: String(allowHttp),
    },
    run: `bash ${SIGN_SCRIPT_PATH} ${args}`,
  };
}
/** Jobs whose permission serves another purpose than PERMISSION_WHY says: "<job id> <permission>". */
const JOB_PERMISSION_WHY: Record<string, string> = {
  'base-watch contents: write': 'push the branch with the new base pins',
  'base-watch pull-requests: write': 'open the pull request of the new base pins',
  'gc packages: write': 'delete unreferenced build-key tags and cache refs (factory gc)',
  'gc-check packages: read': 'read the registry inventory (factory gc --dry-run)',
};

/**
 * The builder: the repository variables first, then the pool's builder (`pool`, an expression of
 * the pool workflow's settings input; the Pool document's `builder`, see pool-builder.ts), then
 * setup-buildx's default. The variables belong to the runners: setup-buildx's default, a
 * docker-container builder, needs a Docker daemon, which self-hosted runners (and the act
 * end-to-end test) may lack: FACTORY_BUILDX_DRIVER=remote with FACTORY_BUILDX_ENDPOINT=tcp://...
 * or unix://... points every leg at an existing BuildKit. FACTORY_BUILDX_DRIVER replaces the
 * pool's builder as a whole (its driver options, flags and configuration file with it).
 */
export function setupBuildx(pool?: (key: string) => string): Step {
  const b = (key: string) => (pool ? `${pool(`builder.${key}`)} || ` : '');
  const own = (key: string) => (pool ? { [key]: expr(`!vars.FACTORY_BUILDX_DRIVER && ${pool(`builder.${key}`)} || ''`) } : {});
  return {
    name: 'Set up Buildx',
    uses: usesRef(ACTIONS.setupBuildx),
    with: {
      driver: expr(`vars.FACTORY_BUILDX_DRIVER || ${b('driver')}'docker-container'`),
      endpoint: expr(`vars.FACTORY_BUILDX_ENDPOINT || ${b('endpoint')}''`),
      ...own('driver-opts'),
      ...own('buildkitd-flags'),
      ...(pool
        ? { 'buildkitd-config': expr(`!vars.FACTORY_BUILDX_DRIVER && !vars.FACTORY_BUILDKITD_CONFIG && ${pool('builder.buildkitd-config')} || ''`) }
        : {}),
      'buildkitd-config-inline': expr(`vars.FACTORY_BUILDKITD_CONFIG || ${b('buildkitd-config-inline')}''`),
    },
  };
}

/** Registry login with the username from repository settings, else the actor. */
export function loginStep(hostExpr: string, passwordExpr: string): Step {
  return {
    name: 'Log in to the registry',
    uses: usesRef(ACTIONS.login),
    with: { registry: expr(hostExpr), username: expr('vars.FACTORY_REGISTRY_USERNAME || github.actor'), password: expr(passwordExpr) },
  };
}

const STEP_KEY_ORDER = ['name', 'id', 'if', 'continue-on-error', 'uses', 'with', 'env', 'run'];

/** Step keys in reading order (what runs, when, then how), whatever order they were set in. */
export function orderSteps(jobs: { [id: string]: Job }): void {
  const rank = (k: string) => (STEP_KEY_ORDER.includes(k) ? STEP_KEY_ORDER.indexOf(k) : STEP_KEY_ORDER.length);
  for (const job of Object.values(jobs)) {
    if (Array.isArray(job.steps)) job.steps = (job.steps as Step[]).map((s) => Object.fromEntries(Object.entries(s).sort(([a], [b]) => rank(a) - rank(b))));
  }
}

export function render(value: Json, header: string): string {
  // No anchors/aliases: not every consumer of workflow files understands them.
  const doc = new Document(value, { aliasDuplicateObjects: false });
  doc.commentBefore = header;
  // Put each pinned action's version next to its SHA, where pin-update tools expect it.
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === 'uses' && isScalar(pair.value)) {
        const comment = versionComment(String(pair.value.value));
        if (comment) pair.value.comment = comment;
      }
    },
  });
  // Say why each permission is granted, next to it (zizmor's undocumented-permissions).
  const jobsNode = doc.get('jobs', true);
  if (isMap(jobsNode)) {
    for (const job of jobsNode.items) {
      const perms = isMap(job.value) ? job.value.get('permissions', true) : undefined;
      if (!isMap(perms)) continue;
      for (const item of perms.items) {
        const perm = isScalar(item.key) && isScalar(item.value) ? `${item.key.value}: ${item.value.value}` : undefined;
        const why = perm ? (JOB_PERMISSION_WHY[`${isScalar(job.key) ? String(job.key.value) : ''} ${perm}`] ?? PERMISSION_WHY[perm]) : undefined;
        if (why && isScalar(item.value)) item.value.comment = ` ${why}`;
      }
    }
    // Blank line between jobs, for readability of the committed file.
    for (const item of jobsNode.items.slice(1)) if (isScalar(item.key)) item.key.spaceBefore = true;
  }
  return doc.toString({ lineWidth: 0, indentSeq: true });
}
