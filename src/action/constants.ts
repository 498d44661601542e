// Names shared by action.yml, the code and the tests. Changing one here is a breaking change of
// the action's interface: keep action.yml in sync (test/action/action-yml.test.ts checks it).

export enum Inputs {
  Mode = 'mode',
  Target = 'target',
  Files = 'files',
  Workdir = 'workdir',
  Push = 'push',
  Load = 'load',
  Cache = 'cache',
  CacheFrom = 'cache-from',
  CacheTo = 'cache-to',
  CacheDir = 'cache-dir',
  Tests = 'tests',
  Set = 'set',
  Sbom = 'sbom',
  SbomScanner = 'sbom-scanner',
  Registry = 'registry',
  RegistryInsecure = 'registry-insecure',
  Evidence = 'evidence',
  RetentionDays = 'retention-days',
  RecordsDir = 'records-dir',
  RecordArtifactPrefix = 'record-artifact-prefix',
  Branch = 'branch',
  PushRetries = 'push-retries',
  HistoryDays = 'history-days',
  GithubToken = 'github-token',
  CacheWrite = 'cache-write',
  Retries = 'retries',
  Variables = 'variables',
  KeyTag = 'key-tag',
}

export enum Outputs {
  Result = 'result',
  Digest = 'digest',
  ImageRefs = 'image-refs',
  RecordPath = 'record-path',
  Records = 'records',
  CacheHitRatio = 'cache-hit-ratio',
  Metadata = 'metadata',
  ErrorReport = 'error-report',
  Commit = 'commit',
  Attempts = 'attempts',
  ResultFile = 'result-file',
}

/** Keys saved with core.saveState for the post step (local cache save). */
export enum State {
  IsPost = 'isPost',
  CacheKey = 'cacheKey',
  CacheDir = 'cacheDir',
  CacheNewDir = 'cacheNewDir',
  CacheRestoredKey = 'cacheRestoredKey',
  BuildOk = 'buildOk',
}

export { DEFAULT_SBOM_SCANNER } from '../core/schema.js';
export const RECORD_ARTIFACT_PREFIX = 'record';
export const EVIDENCE_ARTIFACT_PREFIX = 'evidence';
/** How many log lines of the failing step the error report keeps. */
export const ERROR_LOG_LINES = 40;
/** The in-toto predicate type of BuildKit's SPDX SBOM attestation. */
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
