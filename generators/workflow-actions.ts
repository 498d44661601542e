// Third-party actions used by the generated workflows, pinned by full commit SHA. A tag can be
// moved by whoever controls the upstream repository; a commit cannot. The version is written
// next to the SHA as a comment so humans (and Dependabot/Renovate) can tell what it is.
//
// Where these SHAs come from: each is the commit the upstream release tag points to, cross-
// checked against several unrelated public repositories that pin the same tag to the same SHA.
// To update one, resolve the new tag with `git ls-remote https://github.com/<repo> refs/tags/<tag>`
// and replace both fields together.

export interface PinnedAction {
  repo: string;
  sha: string;
  version: string;
}

export const ACTIONS = {
  // node24 releases: node20 actions stopped running on GitHub-hosted runners in September 2026.
  checkout: { repo: 'actions/checkout', sha: '3d3c42e5aac5ba805825da76410c181273ba90b1', version: 'v7.0.1' },
  setupNode: { repo: 'actions/setup-node', sha: '820762786026740c76f36085b0efc47a31fe5020', version: 'v7.0.0' },
  setupBuildx: { repo: 'docker/setup-buildx-action', sha: '37fe631027851001ddb9b187196cc803df7f5f0e', version: 'v4.3.0' },
  login: { repo: 'docker/login-action', sha: '4907a6ddec9925e35a0a9e82d7399ccc52663121', version: 'v4.1.0' },
  uploadArtifact: { repo: 'actions/upload-artifact', sha: 'bbbca2ddaa5d8feaa63e36b76fdaad77386f024f', version: 'v7.0.0' },
  downloadArtifact: { repo: 'actions/download-artifact', sha: '3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c', version: 'v8.0.1' },
  // Composite: downloads the cosign release it is given and checks it against the checksums
  // written in the action itself. v4.1.2 is the newest tag (its commit 6f9f177 "Bump cosign to
  // 3.0.6"); public workflows pin the same SHA with cosign-release v3.1.3, as we do.
  cosignInstaller: { repo: 'sigstore/cosign-installer', sha: '6f9f17788090df1f26f669e9d70d6ae9567deba6', version: 'v4.1.2' },
  // node24; only in the merge job, and only with Policy signing.attestations.
  attest: { repo: 'actions/attest', sha: '1e69f48acb82d1966a394da916b4c1698aa569d6', version: 'v4.2.2' },
} as const satisfies Record<string, PinnedAction>;

/** `owner/repo@<sha>`: the value of a step's `uses:`. */
export function usesRef(action: PinnedAction): string {
  return `${action.repo}@${action.sha}`;
}

/** Version comment for a `uses:` value, or undefined for local actions. */
export function versionComment(uses: string): string | undefined {
  for (const action of Object.values(ACTIONS)) {
    if (uses === usesRef(action)) return ` ${action.version}`;
  }
  return undefined;
}
