// `factory verify <product@version[:variant] | repository@sha256:...>`: the consumer's check of a
// published image. Resolves the subject through the factory (its merged tag in --registry) or
// takes a digest reference; reads the image through the registry API; verifies signatures with
// cosign; compares base, template and fragments with the factory's definition and lock.
import { isLoopbackHost, parseReference, formatReference } from '../registry/reference.js';
import { RegistryClient, RegistryError } from '../registry/client.js';
import { FactoryError, type ResolvedFactory, type Target } from '../core/types.js';
import { cosignSigner, workflowIdentity } from '../supply/cosign.js';
import { verifyImage, type Check, type Expected } from '../supply/verify.js';
import { refOf, resolveId } from '../core/ids.js';
import { factoryLabels } from '../core/labels.js';
import type { Command, CommandContext } from './commands.js';
import { EXIT, UserError } from './errors.js';
import { paint, printJson } from './output.js';

function expectedOf(factory: ResolvedFactory, t: Target): Expected {
  const lock = factory.loaded.lock?.doc;
  const p = t.product;
  const template = refOf(p.template.meta.doc);
  const fragments = p.fragments.map((f) => refOf(f.meta.doc));
  return {
    product: p.id,
    variant: t.variant.name,
    template,
    fragments,
    lockDigests: Object.fromEntries([...Object.entries(lock?.templates ?? {}), ...Object.entries(lock?.fragments ?? {})].map(([ref, e]) => [ref, e.digest])),
    baseImage: p.base.image,
    ...(p.base.digest ? { basePin: p.base.digest } : {}),
  };
}

interface Subject {
  ref: string;
  target?: Target;
}

async function subjects(ctx: CommandContext, factory: ResolvedFactory | undefined): Promise<Subject[]> {
  const arg = ctx.positionals[0]!;
  if (arg.includes('@sha256:')) return [{ ref: arg }];
  if (!factory) throw new UserError(`'${arg}' names a product, but the factory does not load: run 'factory validate'`);
  const registry = (ctx.values.registry as string | undefined) ?? process.env.FACTORY_REGISTRY;
  if (!registry) throw new UserError('--registry HOST[/NAMESPACE] (or FACTORY_REGISTRY) is needed to find the published image of a product', EXIT.usage);
  const resolved = resolveId(factory, arg);
  if (!resolved.ok) throw new FactoryError([resolved.diagnostic]);
  const targets = resolved.value.targets;
  // One subject per variant: the manifest list the merge job published under its first tag.
  const byTag = new Map<string, Target>();
  for (const t of targets) if (t.mergedTags[0] && !byTag.has(t.mergedTags[0])) byTag.set(t.mergedTags[0], t);
  return [...byTag].map(([tag, target]) => ({ ref: `${registry.replace(/\/+$/, '')}/${tag}`, target }));
}

function table(rows: Check[]): string {
  const w = [Math.max(8, ...rows.map((r) => r.platform.length)), 11];
  return rows.map((r) => `${r.ok ? 'pass' : 'FAIL'}  ${r.platform.padEnd(w[0]!)}  ${r.check.padEnd(w[1]!)}  ${r.detail}`).join('\n');
}

export const verify: Command = {
  usage: 'verify <product@version[:variant]|image@sha256:...>',
  summary: 'Check a published image: signature, provenance, SBOM, base pin and composition against the lock, per platform.',
  details:
    "Keyless by default: the signature must come from this repository's factory workflows (--repository OWNER/NAME, or GITHUB_REPOSITORY) running on a ref of the Policy's signing.trusted-refs.\nWith --key, a cosign public key instead. Exit 1 when any check fails.",
  positionals: { min: 1, max: 1 },
  options: {
    registry: { type: 'string', description: 'where the factory publishes (HOST[/NAMESPACE]); default FACTORY_REGISTRY' },
    key: { type: 'string', description: 'verify signatures with this cosign public key' },
    repository: { type: 'string', description: 'OWNER/NAME whose factory workflow must have signed (keyless)' },
    'insecure-ignore-tlog': { type: 'boolean', description: 'do not require a transparency log entry (signatures made without Rekor)' },
  },
  async run(ctx) {
    let factory: ResolvedFactory | undefined;
    try {
      factory = await ctx.load();
    } catch {
      factory = undefined;
    }
    const key = ctx.values.key as string | undefined;
    const repository = (ctx.values.repository as string | undefined) ?? process.env.GITHUB_REPOSITORY;
    if (!key && !repository)
      throw new UserError('say who must have signed: --key cosign.pub, or --repository OWNER/NAME for keyless signatures of its factory workflow', EXIT.usage);
    const client = new RegistryClient();
    const all: (Check & { image: string })[] = [];
    for (const s of await subjects(ctx, factory)) {
      const ref = parseReference(s.ref);
      const signer = cosignSigner({
        // Keyless: signed by the factory's workflows on a ref the Policy trusts (a branch's run
        // could publish too); any ref when the factory does not load here.
        ...(key ? { key } : { identityRegexp: workflowIdentity(repository!, factory?.policy.signing['trusted-refs']) }),
        ignoreTlog: Boolean(ctx.values['insecure-ignore-tlog']),
        allowHttp: isLoopbackHost(ref.registry),
      });
      let inspection;
      try {
        inspection = await client.inspect(ref);
      } catch (e) {
        if (e instanceof RegistryError) throw new UserError(`${s.ref}: ${e.message}`);
        throw e;
      }
      const label = factoryLabels(inspection.images[0]?.labels);
      const target = s.target ?? factory?.targets.find((t) => t.product.id === label.product && t.variant.name === label.variant);
      const repo = formatReference({ ...ref, tag: undefined, digest: undefined });
      const checks = await verifyImage({
        repository: repo,
        inspection,
        source: client.source(ref),
        signer,
        ...(target && factory ? { expected: expectedOf(factory, target) } : {}),
      });
      all.push(...checks.map((c) => ({ ...c, image: `${repo}@${inspection.digest}` })));
    }
    const failed = all.filter((c) => !c.ok).length;
    if (ctx.json) printJson(ctx.io, { ok: failed === 0, checks: all });
    else {
      for (const image of [...new Set(all.map((c) => c.image))]) ctx.io.out(`${paint(ctx.io, 'bold', image)}\n${table(all.filter((c) => c.image === image))}`);
      ctx.io.out(failed ? paint(ctx.io, 'red', `${failed} check(s) failed`) : paint(ctx.io, 'green', `all ${all.length} checks passed`));
    }
    return failed ? EXIT.failed : EXIT.ok;
  },
};
