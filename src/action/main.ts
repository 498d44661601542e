// Wiring only: read the inputs, run the mode (or the post step), turn errors into one message.
import * as core from '@actions/core';
import { runBuild } from './build.js';
import { stopChildren } from './buildx.js';
import { saveLocalCache } from './cache.js';
import { runRecord } from './commit-back.js';
import { currentPhase } from './console.js';
import { State } from './constants.js';
import { getInputs, getRunContext } from './context.js';
import { ActionError } from './errors.js';

/**
 * The runner cancels a step with SIGINT, then SIGTERM, then SIGKILL. The job gets one message
 * saying where it stopped, and the running bake is stopped with the same signal. Nothing else
 * needs cleaning up: records are written and uploaded whole or not at all, and the build key is tagged only after the record is uploaded (build.ts), so a
 * re-run builds or records whatever the cancelled one left out.
 */
function onCancel(signal: NodeJS.Signals): void {
  // buildx cancels its build on SIGINT/SIGTERM, like on Ctrl-C.
  stopChildren(signal);
  core.setFailed(`cancelled (${signal}) while ${currentPhase()}; nothing was recorded half-way: re-run the job to build or record what is missing`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

export async function run(): Promise<void> {
  process.once('SIGINT', onCancel);
  process.once('SIGTERM', onCancel);
  try {
    if (core.getState(State.IsPost) === 'true') {
      await saveLocalCache();
      return;
    }
    core.saveState(State.IsPost, 'true');
    const ctx = getRunContext();
    const inputs = getInputs(ctx);
    if (inputs.mode === 'record') await runRecord(inputs, ctx);
    else await runBuild(inputs, ctx);
  } catch (e) {
    if (e instanceof ActionError) core.setFailed(e.message);
    else {
      // Not the user's fault: keep the stack for the bug report, in the debug log only.
      core.debug(e instanceof Error ? (e.stack ?? e.message) : String(e));
      core.setFailed(`unexpected error (please report it): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
