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
  checkout: { repo: 'actions/checkout', sha: '11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  setupNode: { repo: 'actions/setup-node', sha: '49933ea5288caeca8642d1e84afbd3f7d6820020', version: 'v4.4.0' },
  setupBuildx: { repo: 'docker/setup-buildx-action', sha: 'e468171a9de216ec08956ac3ada2f0791b6bd435', version: 'v3.11.1' },
  login: { repo: 'docker/login-action', sha: '74a5d142397b4f367a81961eba4e8cd7edddf772', version: 'v3.4.0' },
  uploadArtifact: { repo: 'actions/upload-artifact', sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02', version: 'v4.6.2' },
  downloadArtifact: { repo: 'actions/download-artifact', sha: 'd3f86a106a0bac45b974a628896c90dbdf5c8093', version: 'v4.3.0' },
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
