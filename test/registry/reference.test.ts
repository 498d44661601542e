import { describe, expect, it } from 'vitest';
import { apiHost, formatReference, isLoopbackHost, parseReference } from '../../src/registry/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['debian', { registry: 'docker.io', repository: 'library/debian', tag: 'latest' }],
    ['debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
    ['nvidia/cuda:12.4.1-base', { registry: 'docker.io', repository: 'nvidia/cuda', tag: '12.4.1-base' }],
    ['docker.io/library/debian:bookworm-slim', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm-slim' }],
    ['localhost/base/debian', { registry: 'localhost', repository: 'base/debian', tag: 'latest' }],
    ['127.0.0.1:5000/base/debian:bookworm', { registry: '127.0.0.1:5000', repository: 'base/debian', tag: 'bookworm' }],
    [`ghcr.io/org/img@${D}`, { registry: 'ghcr.io', repository: 'org/img', digest: D }],
    [`ghcr.io/org/img:1.0@${D}`, { registry: 'ghcr.io', repository: 'org/img', tag: '1.0', digest: D }],
    ['[::1]:5000/x:y', { registry: '[::1]:5000', repository: 'x', tag: 'y' }],
  ])('%s', (ref, want) => {
    expect(parseReference(ref)).toEqual(want);
  });

  it.each([
    ['', /empty/],
    ['Debian', /lower-case/],
    ['debian:', /tag ""/],
    ['debian@sha256:abc', /64 lower-case hex/],
    ['ghcr.io/org//img', /components/],
    [' debian', /whitespace/],
    ['debian:bad tag', /tag/],
  ])('rejects %j', (ref, msg) => {
    expect(() => parseReference(ref)).toThrow(msg);
  });

  it('formats back to a fully qualified reference', () => {
    expect(formatReference(parseReference('debian'))).toBe('docker.io/library/debian:latest');
    expect(formatReference(parseReference(`127.0.0.1:5000/a/b:t@${D}`))).toBe(`127.0.0.1:5000/a/b:t@${D}`);
  });
});

describe('hosts', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['127.1.2.3', true],
    ['localhost:5000', true],
    ['localhost', true],
    ['[::1]:5000', true],
    ['docker.io', false],
    ['127.0.0.1.example.com', false],
    ['ghcr.io', false],
  ])('isLoopbackHost(%s) = %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it('maps Docker Hub to its API host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });
});
