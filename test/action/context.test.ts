import { describe, expect, it } from 'vitest';
import type { BakeDefinition } from '../../src/action/types.js';
import { buildArgs, getInputs, getRunContext, runPaths, testArgs } from '../../src/action/context.js';
import type { BuildInputs } from '../../src/action/types.js';
import { ctx, restoreEnvAfterEach, setInputs } from './env.js';

restoreEnvAfterEach();

describe('getInputs', () => {
  it('applies the defaults of action.yml when only target is set', () => {
    setInputs({ target: 'llm-runtime-python3_11-amd64' });
    expect(getInputs(ctx)).toEqual({
      mode: 'build',
      target: 'llm-runtime-python3_11-amd64',
      files: ['docker-bake.hcl'],
      workdir: '/ws',
      push: false,
      load: false,
      cache: 'registry',
      cacheWrite: true,
      cacheFrom: [],
      cacheTo: [],
      cacheDir: '/tmp/runner/factory-buildkit-cache',
      tests: 'auto',
      set: [],
      sbom: true,
      sbomScanner: 'docker/buildkit-syft-scanner:stable-1',
      registryInsecure: false,
      variables: {},
      retries: 0,
      evidence: true,
      recordsDir: 'records',
    });
  });

  it('parses lists, booleans and numbers like a runner passes them', () => {
    setInputs({
      target: 'tools',
      files: 'docker-bake.hcl\n# comment\nextra.hcl, more.hcl',
      workdir: 'factory',
      push: 'true',
      cache: 'local',
      'cache-dir': '/cache',
      tests: 'test-tools-amd64\ntest-fragment-busybox-1_0_0-amd64',
      set: '*.args.X=a,b\ntools.no-cache=true',
      sbom: 'False',
      'sbom-scanner': 'localhost:5000/scanner:dev',
      registry: 'localhost:5000',
      'retention-days': '7',
      'github-token': 'tok',
    });
    const i = getInputs(ctx) as BuildInputs;
    expect(i.files).toEqual(['docker-bake.hcl', 'extra.hcl', 'more.hcl']);
    expect(i.workdir).toBe('/ws/factory');
    expect(i.push).toBe(true);
    expect(i.cacheDir).toBe('/cache');
    expect(i.tests).toEqual(['test-tools-amd64', 'test-fragment-busybox-1_0_0-amd64']);
    // --set values may contain commas; they are one per line.
    expect(i.set).toEqual(['*.args.X=a,b', 'tools.no-cache=true']);
    expect(i.sbom).toBe(false);
    expect(i.sbomScanner).toBe('localhost:5000/scanner:dev');
    expect(i.registry).toBe('localhost:5000');
    expect(i.retentionDays).toBe(7);
    expect(i.githubToken).toBe('tok');
  });

  it("takes a registry with a namespace (the plan's ghcr.io/<owner>), variables, retries and a key tag", () => {
    setInputs({
      target: 'tools',
      registry: 'ghcr.io/acme/',
      variables: 'BASE_DEBIAN=r/base/debian:bookworm@sha256:ab\n# a comment\nSOURCE_DATE_EPOCH = 1700000000\nX=a=b,c',
      retries: '2',
      'key-tag': 'bk-0123abcd',
      'cache-write': 'false',
    });
    const i = getInputs(ctx) as BuildInputs;
    expect(i.registry).toBe('ghcr.io/acme');
    expect(i.variables).toEqual({ BASE_DEBIAN: 'r/base/debian:bookworm@sha256:ab', SOURCE_DATE_EPOCH: '1700000000', X: 'a=b,c' });
    expect(i.retries).toBe(2);
    expect(i.keyTag).toBe('bk-0123abcd');
    expect(i.cacheWrite).toBe(false);
  });

  it.each([
    [{}, 'input `target` is required: name a bake target or group of docker-bake.hcl'],
    [{ target: 'a b' }, 'input `target`: expected a bake target or group name ([A-Za-z0-9_-]), got "a b"'],
    [{ target: 't', push: 'yes' }, 'input `push`: expected true or false, got "yes"'],
    [{ target: 't', cache: 's3' }, 'input `cache`: expected one of registry, gha, local, none, got "s3"'],
    [{ target: 't', 'retention-days': '91' }, 'input `retention-days`: expected a whole number from 1 to 90, got "91"'],
    [{ target: 't', set: 'no-equals' }, 'input `set`: expected one `target.key=value` per line, got "no-equals"'],
    [{ target: 't', mode: 'deploy' }, 'input `mode`: expected "build" or "record", got "deploy"'],
    [{ target: 't', 'records-dir': '../out' }, 'input `records-dir`: expected a path inside the repository (relative, no ".."), got "../out"'],
    [
      { target: 't', registry: 'https://ghcr.io' },
      'input `registry`: expected a registry host with an optional namespace, in lower case, such as "ghcr.io/acme" or "localhost:5000", got "https://ghcr.io"',
    ],
    [{ target: 't', registry: 'ghcr.io/Acme' }, 'input `registry`: expected a registry host with an optional namespace, in lower case'],
    [{ target: 't', retries: '6' }, 'input `retries`: expected a whole number from 0 to 5, got "6"'],
    [{ target: 't', variables: 'BASE_DEBIAN' }, 'input `variables`: expected one bake variable per line as KEY=VALUE, got "BASE_DEBIAN"'],
    [{ target: 't', variables: '1X=a' }, 'input `variables`: expected one bake variable per line as KEY=VALUE, got "1X=a"'],
    [{ target: 't', 'key-tag': 'bk/x' }, 'input `key-tag`: expected an image tag'],
    [{ target: 't', 'cache-write': 'no' }, 'input `cache-write`: expected true or false, got "no"'],
    [
      { target: 't', cache: 'gha', 'cache-from': 'type=registry,ref=x' },
      'inputs `cache-from`/`cache-to` override the cache; they cannot be combined with `cache: gha`',
    ],
    [{ target: 't', tests: 'test x' }, 'input `tests`: expected "auto", "none" or test target names, got "test x"'],
  ])('rejects %j with one message', (inputs, message) => {
    setInputs(inputs as Record<string, string>);
    expect(() => getInputs(ctx)).toThrowError(message);
  });

  it('reads record mode with the run branch as default', () => {
    setInputs({ mode: 'record', 'push-retries': '3' });
    expect(getInputs(ctx)).toEqual({
      mode: 'record',
      workdir: '/ws',
      recordsDir: 'records',
      recordArtifactPrefix: 'record',
      branch: 'main',
      pushRetries: 3,
      historyDays: 90,
    });
    setInputs({ mode: 'record', 'history-days': '30' });
    expect(getInputs(ctx)).toMatchObject({ historyDays: 30 });
    setInputs({ mode: 'record', 'history-days': '-1' });
    expect(() => getInputs(ctx)).toThrowError(/history-days/);
    setInputs({ mode: 'record' });
    expect(() => getInputs({ ...ctx, refName: '' })).toThrowError('input `branch`: no branch to commit records to');
  });

  it('reads the run context from GITHUB_* variables', () => {
    const c = getRunContext({ GITHUB_WORKSPACE: '/w', GITHUB_RUN_ID: '7', GITHUB_REPOSITORY: 'o/r', GITHUB_EVENT_NAME: 'pull_request' });
    expect(c).toMatchObject({ workspace: '/w', runId: '7', runAttempt: '1', repository: 'o/r', eventName: 'pull_request', runnerTemp: '/w/.factory/tmp' });
  });
});

describe('bake arguments', () => {
  const paths = runPaths('/ev');
  const base = (over: Record<string, string>) => {
    setInputs({ target: 'a-amd64', ...over });
    return getInputs(ctx) as BuildInputs;
  };

  it.each([
    [
      'registry cache from the bake file, pushed',
      { push: 'true' },
      [
        'bake',
        '--file',
        '/ev/bake-definition.json',
        '--metadata-file',
        '/ev/bake-metadata.json',
        '--progress=rawjson',
        '--set',
        'a-amd64.attest=type=sbom,generator=docker/buildkit-syft-scanner:stable-1',
        '--set',
        'a-amd64.output=type=image,push=true,rewrite-timestamp=true,oci-mediatypes=true',
        'a-amd64',
      ],
    ],
    [
      'registry cache overridden, OCI export without push',
      { 'cache-from': 'type=registry,ref=r/c:a\ntype=registry,ref=r/c:shared', 'cache-to': 'type=registry,ref=r/c:a,mode=max', sbom: 'false' },
      [
        'bake',
        '--file',
        '/ev/bake-definition.json',
        '--metadata-file',
        '/ev/bake-metadata.json',
        '--progress=rawjson',
        '--allow',
        'fs.write=/ev',
        '--set',
        'a-amd64.cache-from=type=registry,ref=r/c:a',
        '--set',
        'a-amd64.cache-from=type=registry,ref=r/c:shared',
        '--set',
        'a-amd64.cache-to=type=registry,ref=r/c:a,mode=max',
        '--set',
        'a-amd64.output=type=oci,dest=/ev/oci/a-amd64,tar=false,rewrite-timestamp=true',
        'a-amd64',
      ],
    ],
    [
      'gha cache scoped per target, loaded',
      { cache: 'gha', load: 'true', sbom: 'false' },
      [
        'bake',
        '--file',
        '/ev/bake-definition.json',
        '--metadata-file',
        '/ev/bake-metadata.json',
        '--progress=rawjson',
        '--set',
        'a-amd64.cache-from=type=gha,scope=a-amd64',
        '--set',
        'a-amd64.cache-to=type=gha,scope=a-amd64,mode=max',
        '--set',
        'a-amd64.output=type=docker,rewrite-timestamp=true',
        'a-amd64',
      ],
    ],
    [
      'local cache exported to a fresh directory',
      { cache: 'local', 'cache-dir': '/c', push: 'true', sbom: 'false', set: 'a-amd64.args.X=1' },
      [
        'bake',
        '--file',
        '/ev/bake-definition.json',
        '--metadata-file',
        '/ev/bake-metadata.json',
        '--progress=rawjson',
        '--allow',
        'fs.read=/c',
        '--allow',
        'fs.write=/c-new',
        '--set',
        'a-amd64.cache-from=type=local,src=/c/a-amd64',
        '--set',
        'a-amd64.cache-to=type=local,dest=/c-new/a-amd64,mode=max',
        '--set',
        'a-amd64.output=type=image,push=true,rewrite-timestamp=true,oci-mediatypes=true',
        '--set',
        'a-amd64.args.X=1',
        'a-amd64',
      ],
    ],
    [
      'no cache',
      { cache: 'none', push: 'true', sbom: 'false' },
      [
        'bake',
        '--file',
        '/ev/bake-definition.json',
        '--metadata-file',
        '/ev/bake-metadata.json',
        '--progress=rawjson',
        '--set',
        'a-amd64.cache-from=',
        '--set',
        'a-amd64.cache-to=',
        '--set',
        'a-amd64.output=type=image,push=true,rewrite-timestamp=true,oci-mediatypes=true',
        'a-amd64',
      ],
    ],
  ])('%s', (_name, over, want) => {
    expect(buildArgs(base(over), ['a-amd64'], paths, { target: { 'a-amd64': {} } })).toEqual(want);
  });

  it('exports each test target to its own directory, and no cache of the targets under them', () => {
    const contexts = ['a-amd64', 'stage-core-amd64-0123456789', 'test-a-amd64', 'test-fragment-python-1_0_0-amd64'];
    const pulledIn: BakeDefinition = { target: Object.fromEntries(contexts.map((t) => [t, {}])) };
    expect(testArgs(base({}), ['test-a-amd64', 'test-fragment-python-1_0_0-amd64'], paths, ['a-amd64'], pulledIn)).toEqual([
      'bake',
      '--file',
      '/ev/bake-definition.json',
      '--metadata-file',
      '/ev/test-metadata.json',
      '--progress=rawjson',
      '--allow',
      'fs.write=/ev',
      '--set',
      'a-amd64.attest=type=sbom,generator=docker/buildkit-syft-scanner:stable-1',
      '--set',
      'a-amd64.cache-to=',
      '--set',
      'stage-core-amd64-0123456789.cache-to=',
      '--set',
      'test-a-amd64.output=type=local,dest=/ev/tests/test-a-amd64',
      '--set',
      'test-fragment-python-1_0_0-amd64.output=type=local,dest=/ev/tests/test-fragment-python-1_0_0-amd64',
      'test-a-amd64',
      'test-fragment-python-1_0_0-amd64',
    ]);
  });

  it('grants the device entitlement only when a test target of a device pool asks for it', () => {
    const def = (ent?: string[]): BakeDefinition => ({ target: { 'a-amd64': {}, 'test-a-amd64': ent ? { entitlements: ent } : {} } });
    const allows = (d: BakeDefinition) => {
      const args = testArgs(base({}), ['test-a-amd64'], paths, ['a-amd64'], d);
      return args.flatMap((a, i) => (a === '--allow' ? [args[i + 1]] : []));
    };
    expect(allows(def(['device']))).toEqual(['fs.write=/ev', 'device']);
    expect(allows(def())).toEqual(['fs.write=/ev']);
    expect(allows(def(['network.host']))).toEqual(['fs.write=/ev']);
  });

  // A pull request (cache-write false) exports no cache from any target of either bake, test
  // and shared stage targets included: the bake file's registry refs are the main branch's.
  const def: BakeDefinition = {
    target: {
      'a-amd64': { 'cache-to': ['type=registry,ref=r/c:a-amd64,mode=max'] },
      'stage-core-amd64-0123456789': { 'cache-to': [{ type: 'registry', ref: 'r/c:stage', mode: 'max' }] },
      'test-fragment-python-1_0_0-amd64': { 'cache-to': ['type=registry,ref=r/c:tf,mode=max'] },
    },
  };
  const all = ['a-amd64', 'stage-core-amd64-0123456789', 'test-fragment-python-1_0_0-amd64'];
  it.each<[string, Record<string, string>, string[], string[]]>([
    ['cache-write false: nothing exports', { 'cache-write': 'false', sbom: 'false' }, all, all],
    ['cache local: the registry exports of stages and tests dropped', { cache: 'local', 'cache-dir': '/c', sbom: 'false' }, all.slice(1), all],
    ['cache registry with write: the bake file stands', { sbom: 'false' }, [], all.slice(0, 2)],
  ])('%s', (_name, over, build, tests) => {
    const cleared = (args: string[]) =>
      args
        .filter((a) => a.endsWith('.cache-to='))
        .map((a) => a.slice(0, -'.cache-to='.length))
        .sort();
    const b = buildArgs(base(over), ['a-amd64'], paths, def);
    expect(cleared(b)).toEqual(build);
    expect(cleared(testArgs(base(over), ['test-fragment-python-1_0_0-amd64'], paths, ['a-amd64'], def))).toEqual(tests);
    if (over['cache-write'] === 'false') expect(b.filter((a) => /cache-to=type=/.test(a))).toEqual([]);
  });
});
