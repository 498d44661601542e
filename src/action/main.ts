// Wiring only: read the inputs, run the mode (or the post step), turn errors into one message.
import * as core from '@actions/core';
import { runBuild } from './build.js';
import { saveLocalCache } from './cache.js';
import { runRecord } from './commit-back.js';
import { State } from './constants.js';
import { getInputs, getRunContext } from './context.js';
import { ActionError } from './errors.js';

export async function run(): Promise<void> {
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
