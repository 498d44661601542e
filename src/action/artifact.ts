// The outside service "Actions artifacts" (@actions/artifact): evidence and record uploads, and
// the record downloads of `mode: record`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import { DefaultArtifactClient } from '@actions/artifact';
import type { RunContext } from './types.js';
import { info } from './console.js';

/**
 * Artifacts are immutable and their names unique within a run, so a name carries the target,
 * platform and run attempt: a re-run of a failed job uploads beside the first attempt's
 * artifacts instead of failing with 409 Conflict. A second use of the action in the same job (a
 * retry step: GITHUB_ACTION "__self_2", or a step id ending in "-2") adds "-step2".
 */
export function artifactName(
  prefix: string,
  target: string,
  platform: string,
  ctx: Pick<RunContext, 'runAttempt'> & Partial<Pick<RunContext, 'action'>>,
): string {
  const plat = platform.replace(/[^A-Za-z0-9_.-]/g, '-');
  const step = /[-_](\d+)$/.exec(ctx.action ?? '');
  const suffix = step && Number(step[1]) >= 2 ? `-step${step[1]}` : '';
  return `${prefix}-${target}-${plat}-attempt${ctx.runAttempt}${suffix}`;
}

/** All files under dir, sorted (upload order does not change the artifact, but logs read better). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

export function artifactsAvailable(): boolean {
  return Boolean(process.env.ACTIONS_RUNTIME_TOKEN && process.env.ACTIONS_RESULTS_URL);
}

/** The service's answer to a second artifact of one name in a run (409 Conflict). */
export function isNameTaken(e: unknown): boolean {
  return /\(409\)|already exists|conflict/i.test(e instanceof Error ? e.message : String(e));
}

/** How many other names `upload` tries when a name is taken. */
const NAME_TRIES = 5;

/**
 * Uploads `files` as artifact `name`. The client retries what the service fails to answer
 * (5xx, 429, network). A taken name (409) means an earlier use of this name in the run attempt:
 * a second step for the same target, or an upload the service stored but answered with an
 * error, so the retry conflicts with itself. Nothing may be lost, so the files go up as
 * `name-2`, `name-3`, ...: record mode takes every `record-` artifact and keeps the newest
 * record per path, so a second copy is never a second record.
 */
export async function upload(name: string, files: string[], rootDirectory: string, retentionDays?: number): Promise<number | undefined> {
  if (!artifactsAvailable()) {
    core.warning(`artifact ${name} not uploaded: ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL are not set (not running on a GitHub runner?)`);
    return undefined;
  }
  const client = new DefaultArtifactClient();
  for (let n = 1; ; n++) {
    const as = n === 1 ? name : `${name}-${n}`;
    try {
      const res = await client.uploadArtifact(as, files, rootDirectory, retentionDays ? { retentionDays } : {});
      info(`Uploaded artifact ${as} (${files.length} files, ${res.size ?? 0} bytes, id ${res.id})`);
      return res.id;
    } catch (e) {
      if (!isNameTaken(e) || n > NAME_TRIES) throw e;
      core.warning(`artifact ${as} already exists in this run attempt (an earlier step or upload of the same name); uploading as ${name}-${n + 1} instead`);
    }
  }
}

/** Downloads every artifact of this run whose name starts with `${prefix}-`; returns their directories. */
export async function downloadByPrefix(prefix: string, into: string): Promise<{ name: string; dir: string }[]> {
  const client = new DefaultArtifactClient();
  const { artifacts } = await client.listArtifacts({ latest: true });
  const picked = artifacts.filter((a) => a.name.startsWith(`${prefix}-`)).sort((a, b) => a.name.localeCompare(b.name));
  const out: { name: string; dir: string }[] = [];
  for (const a of picked) {
    const dir = path.join(into, a.name);
    await client.downloadArtifact(a.id, { path: dir });
    out.push({ name: a.name, dir });
  }
  return out;
}
