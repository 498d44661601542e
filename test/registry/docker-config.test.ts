import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerConfigCredentials } from '../../src/registry/docker-config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-docker-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');
fs.writeFileSync(
  path.join(dir, 'config.json'),
  JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub:secret') },
      'ghcr.io': { auth: b64('gh:p:with:colons') },
      'https://registry.example': { auth: b64('ex:pw') },
      'broken.example': { auth: b64('no-colon') },
    },
  }),
);

describe('dockerConfigCredentials', () => {
  const creds = dockerConfigCredentials(dir);
  it.each([
    ['docker.io', { username: 'hub', password: 'secret' }],
    ['index.docker.io', { username: 'hub', password: 'secret' }],
    ['ghcr.io', { username: 'gh', password: 'p:with:colons' }],
    ['registry.example', { username: 'ex', password: 'pw' }],
    ['broken.example', undefined],
    ['127.0.0.1:5000', undefined],
  ])('%s', (registry, want) => {
    expect(creds(registry)).toEqual(want);
  });

  it('is anonymous without a config', () => {
    expect(dockerConfigCredentials(path.join(dir, 'missing'))('ghcr.io')).toBeUndefined();
  });
});
