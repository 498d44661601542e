// The zod schemas of every document the factory reads. They are the single source of truth:
// the TypeScript types, the committed JSON Schema (schema/*.schema.json) and the validation
// messages all come from here.
import { z } from 'zod';

export const SCHEMA_VERSION = 1;

export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export const ACCELERATORS = ['cpu', 'cuda'] as const;

// Names end up in bake target names, stage names, image paths and file paths: keep them to a
// set of characters that is safe in all of them (and in HCL strings and shell words).
export const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
// Semantic version without build metadata; `+` is not allowed in tags.
const VERSION_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/;
// A reference to a versioned document: name@version.
const REF_RE = /^([a-z0-9]+(?:[._-][a-z0-9]+)*)@((?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?)$/;
// Values that may land in a Dockerfile, a tag or a build arg. No whitespace, quotes, `$`,
// backslashes or newlines: they cannot break out of any context they are placed in.
const SAFE_VALUE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+=,-]*$/;
const ARG_NAME_RE = /^[A-Z][A-Z0-9_]*$/;
/** Build args the factory sets on every target (bake); a manifest or fragment may not set them. */
export const RESERVED_ARGS: ReadonlySet<string> = new Set(['BASE_IMAGE', 'SOURCE_DATE_EPOCH']);
const LABEL_KEY_RE = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;

// A name is a directory under build/, part of bake target names, stage names and tags; a
// version is a directory too and the start of the default tag "{version}-{variant}-<arch>",
// which a registry caps at 128 characters. 63 and 40 leave room for both within every limit
// (a path component of 255 bytes, an OCI tag of 128) with the variant and arch appended.
/** A template `user:` that names a build arg: `{args.NB_USER}`. */
export const USER_ARG_RE = /^\{args\.([A-Z][A-Z0-9_]*)\}$/;
export const NAME_MAX = 63;
export const VERSION_MAX = 40;
export const Name = z
  .string()
  .regex(NAME_RE, {
    message: 'must be lower-case letters and digits, separated by single ".", "_" or "-" (e.g. "llm-runtime")',
  })
  .max(NAME_MAX, { message: `must be at most ${NAME_MAX} characters (names become build/ directories, bake targets and tags)` });
export const Version = z
  .string()
  .regex(VERSION_RE, {
    message: 'must be a semantic version such as "1.4.0" (no build metadata)',
  })
  .max(VERSION_MAX, { message: `must be at most ${VERSION_MAX} characters (versions become build/ directories and tags)` });
export const Ref = z
  .string()
  .regex(REF_RE, {
    message: 'must be "name@version", e.g. "python@1.0.0"',
  })
  .max(NAME_MAX + 1 + VERSION_MAX, {
    message: `must be at most ${NAME_MAX + 1 + VERSION_MAX} characters (a name of at most ${NAME_MAX}, "@", a version of at most ${VERSION_MAX})`,
  });
export const SafeValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(
    z.string().regex(SAFE_VALUE_RE, {
      message: 'must be a single word of letters, digits and . _ : / @ + = , - (no spaces, quotes, $, backslashes or newlines)',
    }),
  );
// An image label value is free text (a maintainer's "Name <mail>", a description): it reaches
// the image only through escaped HCL strings and shell-quoted test scripts, so spaces, quotes
// and $ are safe there. Line breaks and other control characters are not: labels are one-line
// metadata, and registries and `docker inspect` show them verbatim.
export const LABEL_VALUE_MAX = 4096;
export const LabelValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(
    z
      .string()
      .regex(/^[^\u0000-\u001f\u007f]*$/, { message: 'must be one line of text (no line breaks, tabs or other control characters)' })
      .max(LABEL_VALUE_MAX, { message: `must be at most ${LABEL_VALUE_MAX} characters` }),
  )
  .describe('label value: one line of text (spaces, quotes and $ allowed)');
// A manifest build-arg value: a SafeValue that may embed "{matrix.KEY}" references. The
// resolver substitutes them per variant and checks the result is a SafeValue again.
const ARG_VALUE_RE = /^(?:[A-Za-z0-9._:/@+=,-]|\{matrix\.[a-z][a-z0-9_]*\})+$/;
export const ArgValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(
    z.string().regex(ARG_VALUE_RE, {
      message: 'must be a single word of letters, digits, . _ : / @ + = , - and "{matrix.KEY}" references (no spaces, quotes, $, backslashes or newlines)',
    }),
  );
export const Platform = z.enum(PLATFORMS);
export const Accelerator = z.enum(ACCELERATORS);
export const ArgName = z.string().regex(ARG_NAME_RE, { message: 'must be an UPPER_SNAKE_CASE build-arg name' });
// Image references are only ever placed inside quoted HCL strings and FROM lines; forbid
// anything that could escape those.
export const ImageRef = z.string().regex(/^[a-z0-9][a-z0-9._:/@-]*$/, {
  message: 'must be an image reference such as "docker.io/library/debian:bookworm-slim"',
});
export const AbsPath = z.string().regex(/^\/[A-Za-z0-9._/+-]*$/, { message: 'must be an absolute path without spaces' });

/**
 * Why `pattern` is not a POSIX extended regular expression as `grep -E` in the image reads it,
 * or undefined. A JavaScript RegExp parse catches what is malformed in both dialects (unbalanced
 * parentheses, brackets, a quantifier with nothing before it); the scan refuses what JavaScript
 * accepts but ERE does not have, so a check cannot pass here and mean something else there.
 */
export function ereProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (e) {
    return `is not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/: /, '')}`;
  }
  let inBracket = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (inBracket) {
      // Inside [...] a backslash is literal in ERE; [:class:] [.x.] [=x=] nest their own brackets.
      const nested = /^\[([:.=])/.exec(pattern.slice(i));
      if (nested) {
        const end = pattern.indexOf(`${nested[1]}]`, i + 2);
        if (end >= 0) i = end + 1;
        continue;
      }
      if (c === '\\') return 'uses a backslash inside [...], which POSIX ERE reads as a literal backslash';
      if (c === ']') inBracket = false;
      continue;
    }
    if (c === '[') {
      inBracket = true;
      // A "]" first (after an optional "^") is a literal member, not the end.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (/[A-Za-z0-9]/.test(n)) return `uses "\\${n}", which POSIX ERE does not have (use a bracket expression such as [0-9], [[:space:]], [[:alnum:]_])`;
      i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') return 'uses "(?", a lookaround, non-capturing or named group, which POSIX ERE does not have';
    if ('*+?}'.includes(c) && pattern[i + 1] === '?' && i > 0) return `uses the lazy quantifier "${c}?", which POSIX ERE does not have`;
  }
  return undefined;
}

const EreMatch = z
  .string()
  .min(1, { message: 'must not be empty (an empty pattern checks nothing)' })
  .superRefine((v, ctx) => {
    const why = ereProblem(v);
    if (why)
      ctx.addIssue({
        code: 'custom',
        message: `${why}`,
        params: {
          hint: 'matches: is a POSIX extended regular expression (grep -E runs it in the image): use [0-9] for \\d, [[:space:]] for \\s, greedy quantifiers, no (?...) groups',
        },
      });
  })
  .describe(
    'a POSIX extended regular expression that grep -E applies to each line: passes when any one line matches (^ and $ anchor a line, no match spans a line break, an empty output has no line)',
  );

const OutputCheck = z
  .object({
    contains: z.string().optional().describe('a fixed string searched in the whole output (may span lines)'),
    matches: EreMatch.optional(),
  })
  .strict();

/** A test a fragment or product declares. Exactly one kind of check per test. */
const TestBase = z.object({
  name: z
    .string()
    .min(1)
    .max(120)
    .regex(/^[^\n\r]+$/, { message: 'must be one line' }),
  user: Name.optional().describe('run the check as this user'),
  skip: z
    .object({ accelerator: z.array(Accelerator).optional(), reason: z.string().min(1) })
    .strict()
    .optional()
    .describe('skip the test where it cannot run, with a recorded reason (e.g. GPU checks on CPU runners)'),
});
export const CommandTest = TestBase.extend({
  command: z.string().min(1).describe('a shell command run with /bin/sh -c inside the image'),
  exit: z.number().int().min(0).max(255).default(0),
  stdout: OutputCheck.optional(),
  stderr: OutputCheck.optional(),
  env: z.record(ArgName, SafeValue).optional().describe('extra environment for the command'),
}).strict();
export const FileTest = TestBase.extend({
  file: AbsPath,
  exists: z.boolean().default(true),
  mode: z
    .string()
    .regex(/^[0-7]{3,4}$/, { message: 'must be an octal file mode such as "0755" (quoted)' })
    .optional(),
}).strict();
export const EnvTest = TestBase.extend({
  'env-equals': z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name' }), z.string()),
}).strict();
export const WhoamiTest = TestBase.extend({
  'runs-as': Name.describe('the image default user'),
}).strict();
export const LabelTest = TestBase.extend({
  label: z.record(z.string().regex(LABEL_KEY_RE), z.string()),
}).strict();
export const Test = z.union([CommandTest, FileTest, EnvTest, WhoamiTest, LabelTest]);
export type Test = z.infer<typeof Test>;

// Runner labels are written verbatim into the generated workflow's runs-on: an expression
// (`${{ ... }}`), a quote or a line break there would be evaluated or change the YAML.
const RunnerLabel = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    message: 'must be a runner label of letters, digits, "_", "." and "-" (no spaces, quotes, "${{ }}" or line breaks)',
  })
  .max(100, { message: 'must be at most 100 characters' });

/** A GitHub environment: its protection rules guard the secrets that push and sign. */
const EnvironmentName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, { message: 'must be a GitHub environment name of letters, digits, "_", "." and "-"' });

// A CDI device name (vendor/class=name), written verbatim into `RUN --device=` of test stages.
const CdiDevice = z.string().regex(/^[a-z0-9][a-z0-9.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*=(?:\*|[A-Za-z0-9][A-Za-z0-9_.:-]*)$/, {
  message: 'must be a CDI device name vendor/class=name, such as "nvidia.com/gpu=all"',
});
// Builder settings land in setup-buildx-action inputs of the pool workflow: no expressions,
// quotes or line breaks.
const BuilderWord = z.string().regex(/^[A-Za-z0-9_./:@+=,-]+$/, { message: 'must be letters, digits and _ . / : @ + = , - (no spaces, quotes or "${{ }}")' });
const RepoFile = z
  .string()
  .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, { message: 'must be a path inside the repository, such as ".github/buildkitd-gpu.toml"' });

/** How a pool's BuildKit builder is made (docker/setup-buildx-action inputs). */
export const PoolBuilder = z
  .object({
    driver: z.enum(['docker-container', 'remote', 'kubernetes', 'docker']).default('docker-container'),
    endpoint: BuilderWord.optional().describe('remote: tcp://host:1234 or unix:///run/buildkit/buildkitd.sock; kubernetes: the context'),
    'driver-opts': z.array(BuilderWord).optional().describe('one key=value per entry, e.g. "namespace=buildkit" or "replicas=4" (kubernetes)'),
    'buildkitd-config': RepoFile.optional().describe('a buildkitd.toml in the repository; replaces the generated one (CDI, mirrors)'),
    'buildkitd-flags': z
      .string()
      .regex(/^[A-Za-z0-9_./:=, -]+$/, { message: 'must be plain buildkitd flags such as "--debug"' })
      .optional(),
    mirrors: z.array(BuilderWord).optional().describe('registry mirrors of docker.io ([registry."docker.io"] mirrors)'),
    'cdi-spec-dirs': z.array(AbsPath).optional().describe('where the builder reads CDI specs (default /etc/cdi and /var/run/cdi); pools with a device only'),
    tls: z
      .object({ 'ca-cert': AbsPath.optional(), cert: AbsPath.optional(), key: AbsPath.optional(), 'server-name': BuilderWord.optional() })
      .strict()
      .optional()
      .describe('remote driver: client certificates on the runner (driver-opts cacert, cert, key, servername)'),
  })
  .strict()
  .superRefine((b, ctx) => {
    // buildx refuses a configuration file and flags for a remote builder (its daemon has its own),
    // and only the remote driver takes client certificates.
    const remoteOnly = b.driver === 'remote' ? [] : (['tls'] as const);
    const notRemote = b.driver === 'remote' ? (['buildkitd-config', 'buildkitd-flags', 'mirrors', 'cdi-spec-dirs'] as const) : [];
    for (const k of notRemote) {
      if (b[k] !== undefined)
        ctx.addIssue({ code: 'custom', path: [k], message: `not for driver remote: set it in the remote daemon's buildkitd.toml (buildx refuses it)` });
    }
    for (const k of remoteOnly) if (b[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only for driver remote' });
    if (b.driver === 'remote' && b.endpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message: 'driver remote needs an endpoint such as tcp://buildkitd:1234 or unix:///run/buildkit/buildkitd.sock',
      });
    }
  });
export type PoolBuilder = z.infer<typeof PoolBuilder>;

export const Pool = z
  .object({
    kind: z.literal('Pool'),
    name: Name,
    description: z.string().optional(),
    platform: Platform,
    accelerator: Accelerator.default('cpu'),
    'runs-on': z.union([RunnerLabel, z.array(RunnerLabel).min(1)]),
    'self-hosted': z.boolean().default(false),
    'max-parallel': z.number().int().min(1).max(256).default(4),
    'timeout-minutes': z.number().int().min(1).max(4320).default(60),
    retries: z.number().int().min(0).max(3).default(1),
    cache: z.enum(['registry', 'gha', 'local']).default('registry').describe('where the build cache lives; "local" for runners with no registry write access'),
    'push-environment': EnvironmentName.optional().describe(
      "the GitHub environment of this pool's build jobs, whose secrets FACTORY_REGISTRY_PASSWORD, FACTORY_COSIGN_KEY and FACTORY_COSIGN_PASSWORD they get (default: the Policy's signing.environment). A self-hosted pool without one gets no credentials and pushes nothing",
    ),
    device: CdiDevice.optional().describe(
      'the CDI device the test steps of accelerator targets get (RUN --device=..., bake entitlement "device"), e.g. nvidia.com/gpu=all. With it, a test that needs the accelerator and finds no device fails instead of being skipped',
    ),
    builder: PoolBuilder.optional().describe(
      'how the BuildKit builder of this pool is made; the repository variables FACTORY_BUILDX_DRIVER, FACTORY_BUILDX_ENDPOINT and FACTORY_BUILDKITD_CONFIG override it',
    ),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.device !== undefined && p.accelerator === 'cpu') {
      ctx.addIssue({ code: 'custom', path: ['device'], message: 'a device is for accelerator pools; set accelerator (e.g. cuda) or drop device' });
    }
  });
export type Pool = z.infer<typeof Pool>;

export const Base = z
  .object({
    kind: z.literal('Base'),
    name: Name,
    description: z.string().optional(),
    image: ImageRef.describe('default reference; overridable through the bake variable BASE_<NAME>'),
    platforms: z
      .array(Platform)
      .min(1)
      .default([...PLATFORMS]),
  })
  .strict();
export type Base = z.infer<typeof Base>;

export const Matrix = z
  .record(z.string().regex(/^[a-z][a-z0-9_]*$/, { message: 'matrix keys are lower_snake_case' }), z.array(SafeValue).min(1))
  .describe('each key expands into variants; the cartesian product of all keys');

export const Manifest = z
  .object({
    kind: z.literal('Manifest'),
    name: Name,
    version: Version,
    description: z.string().optional(),
    template: Ref,
    base: Name.optional().describe('override the template base (a Base name)'),
    fragments: z.array(Ref).min(1).describe('fragments in build order; each fills a slot of the template'),
    matrix: Matrix.optional(),
    args: z.record(ArgName, ArgValue).optional().describe('build args; "{matrix.KEY}" is replaced per variant'),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;

const TagPattern = z
  .string()
  .regex(/^[A-Za-z0-9_{}.-]+$/, { message: 'must be a tag pattern of letters, digits, _ . - and {placeholders}' })
  .max(128, { message: 'must be at most 128 characters (the registry limit on a tag)' });
// A tag for some variants only: the default variant can carry the plain "{version}" / "latest"
// that every variant would otherwise collide on.
const VariantTags = z
  .object({
    pattern: TagPattern,
    variants: z.array(z.string().min(1)).min(1).describe('the variant names (as `factory explain` lists them) that get this tag'),
  })
  .strict();
export type TagEntry = z.infer<typeof TagPattern> | z.infer<typeof VariantTags>;

export const Product = z
  .object({
    kind: z.literal('Product'),
    name: Name,
    version: Version,
    description: z.string().optional(),
    manifest: Ref,
    image: z
      .string()
      .regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, { message: 'must be a repository path such as "factory/llm-runtime"' })
      // The distribution spec's limit on a repository name, registry host included.
      .max(255, { message: 'must be at most 255 characters (the registry limit on a repository path)' }),
    tags: z
      .array(z.union([TagPattern, VariantTags]))
      .min(1)
      .default(['{version}-{variant}'])
      .describe(
        'tag patterns: {version} {major} {minor} {patch} {variant} {matrix.KEY}; an entry { pattern, variants } tags only the variants it names (e.g. the plain {version} on the default one)',
      ),
    platforms: z
      .array(Platform)
      .min(1)
      .default([...PLATFORMS]),
    accelerator: Accelerator.default('cpu'),
    labels: z.record(z.string().regex(LABEL_KEY_RE), LabelValue).optional(),
    tests: z.array(Test).default([]),
  })
  .strict();
export type Product = z.infer<typeof Product>;

/**
 * Factory-wide settings: at most one per factory (manifests/policy.yaml). Every section is
 * optional and has defaults, so a factory without a Policy behaves as documented.
 */
/** Bake variables a Policy may set: the registry and SOURCE_DATE_EPOCH have their own fields. */
const BakeVariableName = z.string().regex(ARG_NAME_RE, { message: 'must be an UPPER_SNAKE_CASE bake variable name such as BASE_DEBIAN' });
const WORKFLOW_SET_VARIABLES: Record<string, string> = {
  REGISTRY: 'the registry is the FACTORY_REGISTRY repository variable',
  SOURCE_DATE_EPOCH: 'set it with bake.source-date-epoch',
};

const PolicyBake = z
  .object({
    variables: z
      .record(BakeVariableName, SafeValue)
      .superRefine((vars, ctx) => {
        for (const k of Object.keys(vars)) {
          const why = WORKFLOW_SET_VARIABLES[k];
          if (why) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is set by the workflow: ${why}` });
        }
      })
      .optional()
      .describe('bake variables every build leg sets, e.g. BASE_DEBIAN: mirror.example.com/library/debian:bookworm-slim'),
    'source-date-epoch': z
      .union([z.literal('commit'), z.number().int().min(0)])
      .default('commit')
      .describe('image timestamps: "commit" (the commit time of the build) or fixed seconds since the epoch'),
  })
  .strict();

/** BuildKit's own default scanner, on Docker Hub. */
export const DEFAULT_SBOM_SCANNER = 'docker/buildkit-syft-scanner:stable-1';

const PolicySbom = z
  .object({
    scanner: ImageRef.optional().describe(`the BuildKit SBOM scanner image; default ${DEFAULT_SBOM_SCANNER} (Docker Hub)`),
  })
  .strict();

const PolicyRegistry = z
  .object({
    insecure: z.boolean().default(false).describe('read manifests from the registry over plain HTTP (a registry without TLS)'),
  })
  .strict();

/** Refs whose workflow runs sign images that other runs may reuse or publish. */
const TrustedRef = z.string().regex(/^refs\/(heads|tags)\/[A-Za-z0-9._/*-]+$/, {
  message: 'must be a full git ref such as refs/heads/main or refs/tags/v1.0.0 (a trailing * matches any suffix)',
});

const PolicySigning = z
  .object({
    environment: EnvironmentName.default('factory').describe(
      "the GitHub environment of every job that pushes or signs (build legs of hosted pools and the merge job); its secrets FACTORY_REGISTRY_PASSWORD, FACTORY_COSIGN_KEY and FACTORY_COSIGN_PASSWORD are the ones those jobs see, so protect it (required reviewers, branch rules). A pool's push-environment overrides it for that pool",
    ),
    'trusted-refs': z
      .array(TrustedRef)
      .min(1)
      .default(['refs/heads/main'])
      .describe(
        'keyless signatures count for build-key reuse and merges only when the signing workflow ran on one of these refs (or on the ref of the run itself): a branch run cannot plant an image that main publishes',
      ),
    attestations: z
      .boolean()
      .default(false)
      .describe(
        'also attest each published manifest list with GitHub artifact attestations (actions/attest: build provenance, verified with gh attestation verify)',
      ),
  })
  .strict();

const PolicyWorkflow = z
  .object({
    'node-version': z
      .string()
      .regex(/^[0-9]+(?:\.[0-9]+){0,2}$/, { message: 'must be a Node.js version such as "24" or "24.4.1"' })
      .default('24')
      .describe('Node.js of the plan, merge and summary jobs (actions/setup-node)'),
  })
  .strict();

const Days = (max: number) => z.number().int().min(0).max(max);

const PolicyBaseWatch = z
  .object({
    mode: z
      .enum(['pull-request', 'branch'])
      .default('pull-request')
      .describe('what the scheduled base watch does with moved pins: open a pull request, or only push the branch'),
    branch: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/, { message: 'must be a git branch name such as factory/base-watch' })
      .refine((b) => !b.includes('..') && !b.endsWith('/') && !b.endsWith('.lock'), { message: 'must be a valid git branch name' })
      .default('factory/base-watch')
      .describe('the branch the watch pushes the new pins to'),
  })
  .strict();

/** GitHub's limits on an artifact's retention-days. */
const ArtifactDays = z.number().int().min(1).max(90);

const PolicyRetention = z
  .object({
    keepDays: Days(3650).default(30).describe('factory gc deletes unreferenced bk-<key> tags and per-target cache refs older than this many days'),
    artifactDays: ArtifactDays.default(7).describe('retention-days of the workflow artifacts (plan, evidence, results, summary)'),
    poolArtifactDays: z
      .record(Name, ArtifactDays)
      .default({})
      .describe("retention-days of a pool's build artifacts (evidence, results), by Pool name; default artifactDays"),
    productArtifactDays: z
      .record(Name, ArtifactDays)
      .default({})
      .describe("retention-days of a product's build artifacts (evidence, results), by Product name; wins over poolArtifactDays"),
  })
  .strict();

export const Policy = z
  .object({
    kind: z.literal('Policy'),
    name: Name.default('factory'),
    description: z.string().optional(),
    history: z
      .object({
        rawDays: z
          .number()
          .int()
          .min(0)
          .max(3650)
          .default(90)
          .describe('days a build keeps its line in records/history/<yyyy>/<mm>.jsonl before its month is folded into <mm>.aggregate.json; 0 keeps every line'),
      })
      .strict()
      .default({ rawDays: 90 })
      .describe('retention of the record history'),
    site: z
      .object({
        pages: z
          .boolean()
          .default(true)
          .describe(
            'publish the dashboard and read-only API (factory site) to GitHub Pages after the record job; needs Pages enabled with "GitHub Actions" as its source',
          ),
      })
      .strict()
      .default({ pages: true })
      .describe('the dashboard site'),
    bake: PolicyBake.default({ 'source-date-epoch': 'commit' }).describe('bake variables of every build leg'),
    sbom: PolicySbom.default({}),
    registry: PolicyRegistry.default({ insecure: false }),
    workflow: PolicyWorkflow.default({ 'node-version': '24' }).describe('settings of the generated workflow'),
    signing: PolicySigning.default({ environment: 'factory', 'trusted-refs': ['refs/heads/main'], attestations: false }).describe(
      'cosign signatures of every pushed image (keyless through GitHub OIDC, or FACTORY_COSIGN_KEY), and who may sign what the factory reuses and publishes',
    ),
    baseWatch: PolicyBaseWatch.default({ mode: 'pull-request', branch: 'factory/base-watch' }).describe(
      'the scheduled base-image watch: moved base digests are pinned, their dependents rebuilt',
    ),
    retention: PolicyRetention.default({ keepDays: 30, artifactDays: 7, poolArtifactDays: {}, productArtifactDays: {} }).describe(
      'retention of build-key images, caches and artifacts (factory gc, the workflow uploads)',
    ),
  })
  .strict();
export type Policy = z.infer<typeof Policy>;

export const Document = z.discriminatedUnion('kind', [Product, Manifest, Pool, Base, Policy]);
export type Document = z.infer<typeof Document>;
export const DOCUMENT_KINDS = ['Product', 'Manifest', 'Pool', 'Base', 'Policy'] as const;

export const Template = z
  .object({
    kind: z.literal('Template'),
    name: Name,
    version: Version,
    description: z.string().optional(),
    base: Name.describe('the Base this template builds on'),
    slots: z.array(Name).min(1).describe('slot names in build order; fragments fill them'),
    platforms: z
      .array(Platform)
      .min(1)
      .default([...PLATFORMS]),
    accelerators: z
      .array(Accelerator)
      .min(1)
      .default([...ACCELERATORS]),
    user: z
      .union([Name, z.string().regex(USER_ARG_RE, { message: 'must be a user name or {args.NAME} (a build arg a fragment declares)' })])
      .optional()
      .describe('the runtime user of the final stage: a user name, or {args.NAME} for the value of a build arg per variant'),
  })
  .strict();
export type Template = z.infer<typeof Template>;

export const Fragment = z
  .object({
    kind: z.literal('Fragment'),
    name: Name,
    version: Version,
    description: z.string().optional(),
    slot: Name,
    requires: z.array(Name).default([]).describe('fragments (by name) that must come earlier in the same manifest'),
    platforms: z
      .array(Platform)
      .min(1)
      .default([...PLATFORMS]),
    accelerators: z
      .array(Accelerator)
      .min(1)
      .default([...ACCELERATORS]),
    args: z.record(ArgName, SafeValue).optional().describe('build args with their defaults'),
    tests: z.array(Test).min(1, { message: 'every fragment needs at least one test' }),
  })
  .strict();
export type Fragment = z.infer<typeof Fragment>;

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, { message: 'must be "sha256:" followed by 64 lower-case hex digits' });

export const LockFile = z
  .object({
    version: z.literal(SCHEMA_VERSION),
    templates: z.record(Ref, z.object({ digest: Digest }).strict()),
    fragments: z.record(Ref, z.object({ digest: Digest }).strict()),
    bases: z
      .record(
        Name,
        z
          .object({
            image: ImageRef,
            digest: Digest,
            seen: z.string().datetime().optional().describe('when the base watch first saw this digest under the tag (time to patch starts here)'),
          })
          .strict(),
      )
      .default({}),
  })
  .strict();
export type LockFile = z.infer<typeof LockFile>;
