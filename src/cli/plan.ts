// `factory plan`: wires git, the registry and $GITHUB_OUTPUT to the change detection in src/plan.
import fs from 'node:fs/promises';
import { GitError, PlanError, formatPlan, githubOutputLines, planChanges } from '../plan/index.js';
import { Policy } from '../core/schema.js';
import { RegistryClient } from '../registry/client.js';
import { checkKeyImage } from '../supply/trust.js';
import type { CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { printJson } from './output.js';
import { trustFrom } from './signing.js';

const list = (v: string | boolean | undefined): string[] | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.split(/[,\s]+/).filter(Boolean) : undefined;

export async function planCommand(ctx: CommandContext): Promise<number> {
  const v = ctx.values;
  const registry = process.env.REGISTRY || undefined;
  const client = new RegistryClient();
  // A build-key hit counts only when the image is signed by the factory (src/supply/trust.ts).
  const policy = await ctx.load().then(
    (f) => f.policy,
    () => Policy.parse({ kind: 'Policy' }),
  );
  const trust = v['check-registry'] ? trustFrom(v, policy, (registry ?? 'localhost:5000').split('/')[0]!, ctx.root) : undefined;
  let result;
  try {
    result = await planChanges({
      repoRoot: ctx.root,
      base: typeof v.base === 'string' ? v.base : undefined,
      head: typeof v.head === 'string' ? v.head : undefined,
      all: Boolean(v.all),
      force: Boolean(v.force),
      push: Boolean(v.push),
      products: list(v.product),
      platforms: list(v.platforms),
      promote: typeof v.promote === 'string' ? v.promote : undefined,
      registry,
      registryCheck: trust ? (ref) => checkKeyImage(client, ref, trust) : undefined,
    });
  } catch (e) {
    if (e instanceof PlanError) throw new UserError(e.message, EXIT.usage);
    if (e instanceof GitError) throw new UserError(e.message, EXIT.failed);
    throw e;
  }
  if (typeof v['github-output'] === 'string') await fs.appendFile(v['github-output'], githubOutputLines(result));
  if (ctx.json) printJson(ctx.io, result);
  else ctx.io.out(formatPlan(result, { explain: Boolean(v.explain) }));
  return EXIT.ok;
}
