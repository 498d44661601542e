// The Pool document's builder as setup-buildx-action inputs, and the order in which the pool
// workflow's "Set up Buildx" step takes them: repository variables, then the pool, then defaults.
import { describe, expect, it } from 'vitest';
import { buildkitdConfig, poolBuilderSettings } from '../../generators/pool-builder.js';
import { setupBuildx } from '../../generators/workflow-common.js';
import { Pool } from '../../src/core/schema.js';

const pool = (extra: Record<string, unknown>) => Pool.parse({ kind: 'Pool', name: 'p', platform: 'linux/amd64', 'runs-on': 'x', ...extra });

describe('poolBuilderSettings', () => {
  it('leaves a pool with neither builder nor device to the defaults', () => {
    expect(poolBuilderSettings(pool({}))).toBeUndefined();
  });

  it('enables CDI in the generated buildkitd.toml of a device pool the action starts a builder for', () => {
    const gpu = pool({ accelerator: 'cuda', device: 'nvidia.com/gpu=all', builder: { mirrors: ['mirror.gcr.io'] } });
    expect(poolBuilderSettings(gpu)).toEqual({
      driver: 'docker-container',
      'buildkitd-config-inline':
        '[cdi]\n  disabled = false\n  specDirs = ["/etc/cdi", "/var/run/cdi"]\n\n[registry."docker.io"]\n  mirrors = ["mirror.gcr.io"]\n',
    });
    expect(buildkitdConfig(pool({ accelerator: 'cuda', device: 'nvidia.com/gpu=0', builder: { 'cdi-spec-dirs': ['/srv/cdi'] } }))).toBe(
      '[cdi]\n  disabled = false\n  specDirs = ["/srv/cdi"]\n',
    );
  });

  it('gives a remote builder its endpoint and client certificates, and no configuration (buildx refuses one)', () => {
    const remote = pool({
      accelerator: 'cuda',
      device: 'nvidia.com/gpu=all',
      builder: { driver: 'remote', endpoint: 'tcp://buildkitd:1234', tls: { 'ca-cert': '/etc/bk/ca.pem', cert: '/etc/bk/cert.pem', key: '/etc/bk/key.pem' } },
    });
    expect(poolBuilderSettings(remote)).toEqual({
      driver: 'remote',
      endpoint: 'tcp://buildkitd:1234',
      'driver-opts': 'cacert=/etc/bk/ca.pem\ncert=/etc/bk/cert.pem\nkey=/etc/bk/key.pem',
    });
  });

  it('passes a kubernetes builder its driver options and a repository buildkitd.toml instead of the generated one', () => {
    const k8s = pool({ builder: { driver: 'kubernetes', 'driver-opts': ['namespace=buildkit', 'replicas=4'], 'buildkitd-config': '.github/buildkitd.toml' } });
    expect(poolBuilderSettings(k8s)).toEqual({
      driver: 'kubernetes',
      'driver-opts': 'namespace=buildkit\nreplicas=4',
      'buildkitd-config': '.github/buildkitd.toml',
    });
  });

  it.each([
    [{ builder: { driver: 'remote' } }, 'builder.endpoint', 'driver remote needs an endpoint'],
    [{ builder: { driver: 'remote', endpoint: 'tcp://b:1', mirrors: ['m'] } }, 'builder.mirrors', 'not for driver remote'],
    [{ builder: { tls: { cert: '/c' } } }, 'builder.tls', 'only for driver remote'],
    [{ device: 'nvidia.com/gpu=all' }, 'device', 'a device is for accelerator pools'],
    [{ accelerator: 'cuda', device: 'nvidia gpu' }, 'device', 'must be a CDI device name'],
    [{ builder: { endpoint: '${{ secrets.X }}' } }, 'builder.endpoint', 'no spaces, quotes or'],
  ])('refuses %j at %s', (extra, where, message) => {
    const r = Pool.safeParse({ kind: 'Pool', name: 'p', platform: 'linux/amd64', 'runs-on': 'x', ...extra });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === where);
    expect(issue?.message, JSON.stringify(r.error!.issues)).toContain(message);
  });
});

describe('setupBuildx', () => {
  it('takes the repository variables first, then the pool, and FACTORY_BUILDX_DRIVER replaces the pool builder as a whole', () => {
    const w = setupBuildx((k) => `fromJSON(inputs.pool).${k}`).with!;
    expect(w).toEqual({
      driver: "${{ vars.FACTORY_BUILDX_DRIVER || fromJSON(inputs.pool).builder.driver || 'docker-container' }}",
      endpoint: "${{ vars.FACTORY_BUILDX_ENDPOINT || fromJSON(inputs.pool).builder.endpoint || '' }}",
      'driver-opts': "${{ !vars.FACTORY_BUILDX_DRIVER && fromJSON(inputs.pool).builder.driver-opts || '' }}",
      'buildkitd-flags': "${{ !vars.FACTORY_BUILDX_DRIVER && fromJSON(inputs.pool).builder.buildkitd-flags || '' }}",
      'buildkitd-config': "${{ !vars.FACTORY_BUILDX_DRIVER && !vars.FACTORY_BUILDKITD_CONFIG && fromJSON(inputs.pool).builder.buildkitd-config || '' }}",
      'buildkitd-config-inline': "${{ vars.FACTORY_BUILDKITD_CONFIG || fromJSON(inputs.pool).builder.buildkitd-config-inline || '' }}",
    });
    // Jobs outside a pool (the merge job) keep the variables only.
    expect(Object.keys(setupBuildx().with!)).toEqual(['driver', 'endpoint', 'buildkitd-config-inline']);
  });
});
