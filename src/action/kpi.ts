// KPIs of one build, from what the build itself produced (rawjson steps, the image manifest)
// and, for the queue wait, from the GitHub API's job timestamps when a token is available.
import * as github from '@actions/github';
import * as core from '@actions/core';
import type { Kpis } from '../core/record.js';
import type { StepCounts } from './rawjson.js';
import type { RunContext } from './types.js';

export function kpis(args: { wallTimeMs: number; steps: StepCounts; image?: { sizeBytes: number; layerCount: number }; queue?: QueueFacts }): Kpis {
  const k: Kpis = {
    wallTimeMs: Math.max(0, Math.round(args.wallTimeMs)),
    steps: { total: args.steps.total, executed: args.steps.executed, cached: args.steps.cached, failed: args.steps.failed },
  };
  if (args.steps.cacheHitRatio !== undefined) k.cacheHitRatio = args.steps.cacheHitRatio;
  if (args.image) {
    k.imageSizeBytes = args.image.sizeBytes;
    k.layerCount = args.image.layerCount;
  }
  if (args.queue && 'missing' in args.queue) k.queueWaitMissing = args.queue.missing;
  else if (args.queue) {
    k.queueWaitMs = args.queue.waitMs;
    k.queue = { createdAt: args.queue.createdAt, startedAt: args.queue.startedAt };
  }
  return k;
}

/** This job's queue facts, or why they could not be read (recorded, so a gap is explained). */
export type QueueFacts = { waitMs: number; createdAt: string; startedAt: string } | { missing: string };

export interface JobTimes {
  name: string;
  runner_name?: string | null;
  status: string;
  created_at: string;
  started_at: string;
}

/**
 * The running job's queue wait (started_at - created_at). The API does not say which job is
 * "this" one, so pick by runner name (unique while the job runs), else the only in-progress job
 * named like GITHUB_JOB.
 */
export function queueWait(jobs: readonly JobTimes[], runnerName: string | undefined, jobId: string): QueueFacts {
  const running = jobs.filter((j) => j.status === 'in_progress');
  const job =
    (runnerName ? running.find((j) => j.runner_name === runnerName) : undefined) ??
    (running.filter((j) => j.name === jobId || j.name.startsWith(`${jobId} `)).length === 1
      ? running.find((j) => j.name === jobId || j.name.startsWith(`${jobId} `))
      : undefined);
  if (!job) return { missing: `no in-progress job of this run matches runner ${runnerName ?? '(unset)'} or job ${jobId}` };
  const ms = Date.parse(job.started_at) - Date.parse(job.created_at);
  if (!Number.isFinite(ms) || ms < 0) return { missing: `the jobs API gave unusable times (${job.created_at} → ${job.started_at})` };
  return { waitMs: ms, createdAt: new Date(job.created_at).toISOString(), startedAt: new Date(job.started_at).toISOString() };
}

/**
 * Best effort: a KPI must never fail the build, so an API problem becomes the record's
 * `queueWaitMissing` (and a debug line). The job needs `actions: read` for the jobs API.
 */
export async function fetchQueue(ctx: RunContext, token: string | undefined): Promise<QueueFacts> {
  if (!token) return { missing: 'no github-token input' };
  if (!ctx.repository || ctx.runId === '0') return { missing: 'not running in a GitHub Actions run (no GITHUB_RUN_ID)' };
  try {
    const [owner, repo] = ctx.repository.split('/') as [string, string];
    const octokit = github.getOctokit(token, { baseUrl: ctx.apiUrl });
    const res = await octokit.rest.actions.listJobsForWorkflowRunAttempt({
      owner,
      repo,
      run_id: Number(ctx.runId),
      attempt_number: Number(ctx.runAttempt),
      per_page: 100,
    });
    return queueWait(res.data.jobs as JobTimes[], process.env.RUNNER_NAME, ctx.job);
  } catch (e) {
    const status = (e as { status?: number }).status;
    const why =
      status === 403 || status === 404
        ? `the jobs API answered ${status}: the job needs \`permissions: actions: read\``
        : `the jobs API failed: ${(e as Error).message}`;
    core.debug(`queue wait not available: ${why}`);
    return { missing: why };
  }
}
