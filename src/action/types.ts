// Typed shapes the action passes between its modules. Anything parsed from an outside tool's
// output (buildx, the registry, results.json) has its own parser module; these are the results.

export type Mode = 'build' | 'record';
export type CacheBackend = 'registry' | 'gha' | 'local' | 'none';

export interface BuildInputs {
  mode: 'build';
  /** A bake target or group name. */
  target: string;
  files: string[];
  workdir: string;
  push: boolean;
  load: boolean;
  cache: CacheBackend;
  /** False on pull requests and pools without registry credentials: no cache export at all. */
  cacheWrite: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  /** Where the `local` cache lives between jobs (restored/saved with @actions/cache). */
  cacheDir: string;
  /** 'auto': the variant's combined and isolated test targets; 'none'; or explicit test target names. */
  tests: 'auto' | 'none' | string[];
  set: string[];
  sbom: boolean;
  sbomScanner: string;
  /** Host plus optional namespace path ("ghcr.io/acme"); the bake variable REGISTRY. */
  registry?: string;
  registryInsecure: boolean;
  /** Bake variables (BASE_*, SOURCE_DATE_EPOCH, ...), from the `variables` input. */
  variables: Record<string, string>;
  /** Infrastructure retries: attempts after one that failed with no attributable error report. */
  retries: number;
  /** A tag the pushed image also gets (the build key, `bk-<key>`), so later plans can skip it. */
  keyTag?: string;
  evidence: boolean;
  retentionDays?: number;
  recordsDir: string;
  githubToken?: string;
}

export interface RecordInputs {
  mode: 'record';
  workdir: string;
  recordsDir: string;
  recordArtifactPrefix: string;
  branch: string;
  pushRetries: number;
  /** Raw history lines are kept this many days, then folded into monthly aggregates; 0 keeps them. */
  historyDays: number;
}

export type ActionInputs = BuildInputs | RecordInputs;

/** The part of `buildx bake --print` the action reads. */
export interface BakeTarget {
  context?: string;
  dockerfile?: string;
  args?: Record<string, string | null>;
  labels?: Record<string, string | null>;
  annotations?: string[];
  tags?: string[];
  platforms?: string[];
  'cache-from'?: unknown[];
  'cache-to'?: unknown[];
  output?: unknown[];
  target?: string;
  contexts?: Record<string, string>;
  /** e.g. ["device"]: test targets of pools with a CDI device. */
  entitlements?: string[];
}

export interface BakeDefinition {
  group?: Record<string, { targets?: string[] }>;
  target: Record<string, BakeTarget>;
}

/** What a GitHub run looks like to the action (from GITHUB_* env). */
export interface RunContext {
  eventName: string;
  repository: string;
  serverUrl: string;
  apiUrl: string;
  runId: string;
  runAttempt: string;
  job: string;
  /** GITHUB_ACTION: the step id, or "__self", "__self_2", ... for repeated uses in one job. */
  action: string;
  sha: string;
  ref: string;
  refName: string;
  workspace: string;
  runnerTemp: string;
}
