// Credentials that `docker login` (and docker/login-action on a runner) stored in plain text in
// config.json "auths", for RegistryClient's `credentials` option: the action reads the images it
// pushed with the login the push used. Credential helpers (credsStore) are not run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Credentials } from './client.js';
import { apiHost, DOCKER_HUB } from './reference.js';

// docker login writes Docker Hub under its v1 index URL; other tools use the host names.
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', DOCKER_HUB, 'index.docker.io', apiHost(DOCKER_HUB)];

export function dockerConfigCredentials(dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker')): (registry: string) => Credentials | undefined {
  return (registry) => {
    let auths: Record<string, { auth?: string }> | undefined;
    try {
      auths = (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { auths?: typeof auths }).auths;
    } catch {
      return undefined; // no config: anonymous
    }
    const keys = apiHost(registry) === apiHost(DOCKER_HUB) ? DOCKER_HUB_KEYS : [registry, `https://${registry}`];
    const auth = keys.map((k) => auths?.[k]?.auth).find(Boolean);
    if (!auth) return undefined;
    const plain = Buffer.from(auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    return colon > 0 ? { username: plain.slice(0, colon), password: plain.slice(colon + 1) } : undefined;
  };
}
