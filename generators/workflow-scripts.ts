// The one script still written into the generated workflow: too short for a file of its own, in
// a job that has no checkout. It never contains `${{ }}`: the values reach it through `env:`.
// The plan step runs scripts/workflow/plan.sh; merge and summary are `factory` subcommands.

/** Posts (or updates) the summary as a pull request comment. */
export const COMMENT_SCRIPT = `set -euo pipefail
gh pr comment "$PR_NUMBER" --repo "$REPOSITORY" --body-file summary.md --edit-last 2>/dev/null \\
  || gh pr comment "$PR_NUMBER" --repo "$REPOSITORY" --body-file summary.md
`;
