// KPIs of one build, from what the build itself produced (rawjson steps, the image manifest)
// and, for the queue wait, from the GitHub API's job timestamps when a token is available.
import * as github from '@actions/github';
import * as core from '@actions/core';
import type { Kpis } from './record.js';
import type { StepCounts } from './rawjson.js';
import type { RunContext } from './types.js';

export function kpis(args: {
  wallTimeMs: number;
  steps: StepCounts;
  image?: { sizeBytes: number; layerCount: number };
  queueWaitMs?: number;
}): Kpis {
  const k: Kpis = {
    wallTimeMs: Math.max(0, Math.round(args.wallTimeMs)),
    steps: { total: args.steps.total, executed: args.steps.executed, cached: args.steps.cached, failed: args.steps.failed },
  };
  if (args.steps.cacheHitRatio !== undefined) k.cacheHitRatio = args.steps.cacheHitRatio;
  if (args.image) {
    k.imageSizeBytes = args.image.sizeBytes;
    k.layerCount = args.image.layerCount;
  }
  if (args.queueWaitMs !== undefined) k.queueWaitMs = args.queueWaitMs;
  return k;
}

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
export function queueWait(jobs: readonly JobTimes[], runnerName: string | undefined, jobId: string): number | undefined {
  const running = jobs.filter((j) => j.status === 'in_progress');
  const job =
    (runnerName ? running.find((j) => j.runner_name === runnerName) : undefined) ??
    (running.filter((j) => j.name === jobId || j.name.startsWith(`${jobId} `)).length === 1
      ? running.find((j) => j.name === jobId || j.name.startsWith(`${jobId} `))
      : undefined);
  if (!job) return undefined;
  const ms = Date.parse(job.started_at) - Date.parse(job.created_at);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Best effort: a KPI must never fail the build, so any API problem is a debug line. */
export async function fetchQueueWait(ctx: RunContext, token: string | undefined): Promise<number | undefined> {
  if (!token || !ctx.repository || ctx.runId === '0') return undefined;
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
    core.debug(`queue wait not available: ${(e as Error).message}`);
    return undefined;
  }
}
