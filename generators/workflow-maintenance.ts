// The scheduled upkeep jobs of factory.yml: the base-image watch and retention (`factory gc`).
//
// - base-watch (schedule only): `factory bases watch --write`; when a base digest moved it
//   regenerates, commits the new pins to the Policy's baseWatch.branch and pushes it (and, in
//   mode pull-request, opens a pull request). The plan job then checks out that commit and plans
//   it against the commit the watch started from: exactly the targets on the moved bases. It is
//   the only job holding contents: write besides the record job, and the only one with
//   pull-requests: write besides the comment job; pull requests never run it.
// - gc (schedule) deletes through the registry API; gc-check (pull requests) runs the same
//   command with --dry-run, with a read-only token and no registry secret.
// Both run their shell from scripts/workflow/*.sh with every value in `env:`.
import type { Policy } from '../src/core/schema.js';
import { ACTIONS, usesRef } from './workflow-actions.js';
import { expr, loginStep, type Job, type Step } from './workflow-common.js';

export const BASE_WATCH_SCRIPT_PATH = 'scripts/workflow/base-watch.sh';
export const GC_SCRIPT_PATH = 'scripts/workflow/gc.sh';
export const CHECKOUT_REF_SCRIPT_PATH = 'scripts/workflow/checkout-ref.sh';
const HOSTED_RUNNER = 'ubuntu-24.04';

function checkout(persist: boolean, fetchDepth?: number): Step {
  const w: Step = { 'persist-credentials': persist };
  if (fetchDepth !== undefined) w['fetch-depth'] = fetchDepth;
  return { name: 'Check out', uses: usesRef(ACTIONS.checkout), with: w };
}

function setupNode(policy: Policy): Step {
  return { name: 'Set up Node.js', uses: usesRef(ACTIONS.setupNode), with: { 'node-version': policy.workflow['node-version'] } };
}

/** After the checkout: move to the base watch's commit when there is one (the plan job, the legs). */
export function checkoutWatchCommit(when: string, shaExpr: string): Step {
  return {
    name: 'Check out the new base pins',
    if: when,
    env: { REF: expr(shaExpr), TOKEN: expr('github.token') },
    run: `bash ${CHECKOUT_REF_SCRIPT_PATH}`,
  };
}

/** Outputs: moved ('true'/'false'), sha (the commit with the new pins), base (the commit it started from). */
export function baseWatchJob(policy: Policy): Job {
  const pr = policy.baseWatch.mode === 'pull-request';
  return {
    name: 'base watch',
    if: "github.event_name == 'schedule'",
    'runs-on': HOSTED_RUNNER,
    'timeout-minutes': 15,
    permissions: pr ? { contents: 'write', 'pull-requests': 'write' } : { contents: 'write' },
    outputs: { moved: expr('steps.watch.outputs.moved'), sha: expr('steps.watch.outputs.sha'), base: expr('steps.watch.outputs.base') },
    steps: [
      // Keeps its token: the script pushes the watch branch. It runs no code from a pull request.
      checkout(true, 0),
      setupNode(policy),
      {
        name: 'Watch the base images',
        id: 'watch',
        env: {
          WATCH_MODE: policy.baseWatch.mode,
          WATCH_BRANCH: policy.baseWatch.branch,
          DEFAULT_BRANCH: expr('github.event.repository.default_branch'),
          REPOSITORY: expr('github.repository'),
          GH_TOKEN: expr('github.token'),
        },
        run: `bash ${BASE_WATCH_SCRIPT_PATH}`,
      },
    ],
  };
}

function gcJob(policy: Policy, dryRun: boolean): Job {
  const steps: Step[] = [checkout(false), setupNode(policy)];
  // A dry run reads with the job's read-only token; the real run logs in with the push secret.
  const login = loginStep('needs.plan.outputs.registry-host', dryRun ? 'github.token' : 'secrets.FACTORY_REGISTRY_PASSWORD || github.token');
  // A fork's token may not log in; public images still list anonymously.
  steps.push(dryRun ? { ...login, 'continue-on-error': true } : login);
  steps.push({
    name: dryRun ? 'List what retention would delete' : 'Delete what retention allows',
    env: { REGISTRY: expr('needs.plan.outputs.registry'), DRY_RUN: String(dryRun) },
    run: `bash ${GC_SCRIPT_PATH}`,
  });
  return {
    name: dryRun ? 'gc (dry run)' : 'gc',
    needs: 'plan',
    // A status function, as below every job under the plan: the watch above it is skipped on pull requests.
    if: `!cancelled() && needs.plan.result == 'success' && ${dryRun ? "github.event_name == 'pull_request'" : "github.event_name == 'schedule'"}`,
    'runs-on': HOSTED_RUNNER,
    'timeout-minutes': 30,
    permissions: dryRun ? { contents: 'read', packages: 'read' } : { contents: 'read', packages: 'write' },
    // The registry password is the environment's, as for every job that writes to the registry.
    ...(dryRun ? {} : { environment: policy.signing.environment }),
    steps,
  };
}

export function gcJobs(policy: Policy): { gc: Job; 'gc-check': Job } {
  return { gc: gcJob(policy, false), 'gc-check': gcJob(policy, true) };
}
