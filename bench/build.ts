// npm run bench:build — real builds of the sample factory on the sandbox (scripts/sandbox.sh),
// side by side, in one run:
//   (a) factory: one `buildx bake` of every image target (shared stages, registry cache) on an
//       empty builder with an empty cache: cold wall time and executed steps;
//   (b) naive:   each target's own Dockerfile built on its own, one after another, with no cache
//       and nothing shared (`--no-cache`, no cache import or export), on another empty builder;
//   (c) warm:    after changing one app fragment, the factory's rebuild on the warm builder of (a):
//       executed steps against the minimum that change requires (the steps of the fragment's
//       stage and the stages after it, in each target that uses it).
// Both (a) and (b) push the same images with the same attestations (SBOM, provenance).
//
//   npm run bench:build [-- --platform linux/amd64] [--json]
// Logs (rawjson per build) go to .factory/bench/<run>/.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bake,
  bakePrint,
  copyFactory,
  downstreamSteps,
  executedSteps,
  factory,
  freshBuilder,
  imageSets,
  rel,
  releaseFragment,
  report,
  ROOT,
  sandboxUp,
  SOURCE_DATE_EPOCH,
  type BakeRun,
} from '../test/e2e/harness.js';

const CHANGED_FRAGMENT = 'llm-serve';

function usage(msg: string): never {
  process.stderr.write(`bench:build: ${msg}\nusage: npm run bench:build [-- --platform linux/amd64|linux/arm64] [--json]\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let platform: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--platform') platform = argv[++i] ?? usage('--platform needs a value');
    else usage(`unknown argument ${argv[i]}`);
  }
  if (platform && !['linux/amd64', 'linux/arm64'].includes(platform)) usage(`--platform must be linux/amd64 or linux/arm64, got ${platform}`);

  const runId = Date.now().toString(36);
  const logDir = join(ROOT, '.factory', 'bench', runId);
  mkdirSync(logDir, { recursive: true });
  const env = await sandboxUp(logDir);
  const tree = mkdtempSync(join(tmpdir(), 'factory-bench-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    await copyFactory(tree);
    await factory(tree, ['generate'], join(logDir, 'generate.log'));
    const vars = (ns: string): Record<string, string> => ({
      REGISTRY: `${env.REGISTRY}/bench-${runId}/${ns}`,
      CACHE_REPO: `${env.REGISTRY}/bench-${runId}/cache`,
      CACHE_DIR: join(tree, '.factory', 'cache'),
      SOURCE_DATE_EPOCH,
      BASE_DEBIAN: env.BASE_DEBIAN,
      BASE_BUSYBOX: env.BASE_BUSYBOX,
      BASE_CUDA: env.BASE_CUDA,
    });
    const plan = await bakePrint(tree, ['default'], vars('factory'));
    const targets = (plan.group.default?.targets ?? []).filter((t) => plan.target[t] && (!platform || plan.target[t]!.platforms?.includes(platform)));
    if (targets.length === 0) throw new Error('no image targets to build');
    console.log(`bench:build run ${runId}: ${targets.length} targets; logs in ${rel(logDir)}`);

    // (a) the factory, cold.
    const a = await freshBuilder(`bench-a-${runId}`, logDir);
    stops.push(a.stop);
    const factoryRun = await bake({
      tree,
      builder: a.builder,
      targets,
      vars: vars('factory'),
      sets: imageSets(plan, targets, env.SBOM_SCANNER),
      logDir,
      name: 'a-factory-cold',
    });
    if (factoryRun.code !== 0) throw new Error(`factory build failed; see ${rel(factoryRun.rawjsonFile)}`);

    // (b) naive: the same Dockerfiles, one build per target, no cache, nothing shared.
    const b = await freshBuilder(`bench-b-${runId}`, logDir);
    stops.push(b.stop);
    const naivePlan = await bakePrint(tree, targets, vars('naive'));
    const naiveRuns: BakeRun[] = [];
    for (const t of targets) {
      const r = await bake({
        tree,
        builder: b.builder,
        targets: [t],
        vars: vars('naive'),
        // `*`: the shared-stage targets a product takes as named contexts are rebuilt too.
        sets: [...imageSets(naivePlan, [t], env.SBOM_SCANNER), '*.no-cache=true', '*.cache-from=', '*.cache-to='],
        logDir,
        name: `b-naive-${t}`,
      });
      if (r.code !== 0) throw new Error(`naive build of ${t} failed; see ${rel(r.rawjsonFile)}`);
      naiveRuns.push(r);
    }
    const naiveSeconds = Math.round(naiveRuns.reduce((s, r) => s + r.seconds, 0) * 10) / 10;
    const naiveExecuted = naiveRuns.reduce((s, r) => s + r.steps.executed, 0);

    // (c) one app fragment changed, rebuilt on the warm builder of (a).
    // A maintainer's change: a new patch version of the app fragment with one file changed.
    const latest = releaseFragment(tree, CHANGED_FRAGMENT, (v) => {
      const filesDir = join(v, 'files');
      appendFileSync(join(filesDir, readdirSync(filesDir).sort()[0]!), `\n# changed by bench:build ${runId}\n`);
    }).to;
    await factory(tree, ['lock'], join(logDir, 'c-lock.log'));
    await factory(tree, ['generate'], join(logDir, 'c-generate.log'));
    const changedPlan = await bakePrint(tree, targets, vars('factory'));
    const warmRun = await bake({
      tree,
      builder: a.builder,
      targets,
      vars: vars('factory'),
      sets: imageSets(changedPlan, targets, env.SBOM_SCANNER),
      logDir,
      name: 'c-factory-warm-change',
    });
    if (warmRun.code !== 0) throw new Error(`warm rebuild failed; see ${rel(warmRun.rawjsonFile)}`);
    const affected = targets.filter((t) => (changedPlan.target[t]?.labels?.['dev.factory.fragments'] ?? '').split(',').includes(latest));
    const minimum = affected.reduce((n, t) => n + downstreamSteps(readFileSync(join(tree, changedPlan.target[t]!.dockerfile!), 'utf8'), CHANGED_FRAGMENT), 0);
    const warmExecuted = executedSteps(warmRun, targets).length;

    const ratio = (x: number, y: number): string => (y === 0 ? '-' : (x / y).toFixed(2));
    const rows: (string | number)[][] = [
      ['', 'wall s', 'executed steps', 'cached steps'],
      ['(a) factory bake, cold', factoryRun.seconds, factoryRun.steps.executed, factoryRun.steps.cached],
      [`(b) naive, ${targets.length} independent builds`, naiveSeconds, naiveExecuted, naiveRuns.reduce((s, r) => s + r.steps.cached, 0)],
      ['    factory / naive', ratio(factoryRun.seconds, naiveSeconds), ratio(factoryRun.steps.executed, naiveExecuted), ''],
      [`(c) warm rebuild after changing ${latest}`, warmRun.seconds, warmExecuted, warmRun.steps.cached],
      [`    minimum steps (${affected.length} targets use it)`, '', minimum, ''],
      ['    executed / minimum', '', ratio(warmExecuted, minimum), ''],
    ];
    const figures = {
      run: runId,
      targets,
      factory: { seconds: factoryRun.seconds, steps: factoryRun.steps },
      naive: {
        seconds: naiveSeconds,
        executed: naiveExecuted,
        perTarget: naiveRuns.map((r) => ({ target: r.name.slice(8), seconds: r.seconds, steps: r.steps })),
      },
      warmChange: { fragment: latest, seconds: warmRun.seconds, executed: warmExecuted, minimum, affected },
    };
    writeFileSync(join(logDir, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    if (json) console.log(JSON.stringify(figures, null, 2));
    else report(logDir, 'figures.txt', `bench:build (${targets.length} targets${platform ? `, ${platform}` : ', linux/amd64 + linux/arm64'})`, rows);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(tree, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:build: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
