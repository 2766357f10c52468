#!/usr/bin/env bash
# What `changeset version` would do, without doing it here: runs `changeset
# status` on this tree, then `changeset version` in a throwaway clone (HEAD plus
# the uncommitted changes), and fails when
#   - status fails (a changed package without a changeset),
#   - a published package never released (no CHANGELOG.md yet) would not come
#     out at 0.1.0 (the first release of every package is 0.1.0),
#   - a package comes out at another version than status announced, or a package
#     status does not release changes version, or a private package is versioned,
#   - a released package's CHANGELOG.md has no section for its new version, or
#     an empty entry in it (a changeset without a summary).
# Prints each package's old -> new version; leaves nothing behind.
# Usage: tools/release-check.sh [--show] (--show also prints the CHANGELOG sections).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
show=${1:-}
changeset="$root/node_modules/.bin/changeset"
[ -x "$changeset" ] || { echo "release-check: $changeset missing (run pnpm install)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"

base=$(node -p 'require("./.changeset/config.json").baseBranch')
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || {
  echo "release-check: no branch $base here; changeset status compares against it" >&2
  exit 2
}
"$changeset" status --output "$tmp/status.json" >"$tmp/status.log" 2>&1 || {
  cat "$tmp/status.log" >&2
  echo "release-check: changeset status failed" >&2
  exit 1
}

# A clone of HEAD with the working tree's changes laid over it (so uncommitted
# changesets count); changesets reads commit ids from its git history.
git clone --quiet --no-checkout "$root" "$tmp/repo"
git -C "$tmp/repo" checkout --quiet --detach "$(git rev-parse HEAD)"
git ls-files -z -m -o --exclude-standard | while IFS= read -r -d '' f; do
  if [ -e "$f" ]; then printf '%s\0' "$f"; fi
done | tar --null -T - -cf - | tar -C "$tmp/repo" -xf -
git ls-files -z -d | (cd "$tmp/repo" && xargs -0 -r rm -f --)
ln -s "$root/node_modules" "$tmp/repo/node_modules" # for .changeset/changelog.cjs

# Versions before, then the dry run.
(cd "$tmp/repo" && pnpm -r ls --json --depth -1) >"$tmp/before.json"
(cd "$tmp/repo" && "$changeset" version) >"$tmp/version.log" 2>&1 || {
  cat "$tmp/version.log" >&2
  echo "release-check: changeset version failed" >&2
  exit 1
}

SHOW="$show" node - "$tmp/status.json" "$tmp/before.json" "$tmp/repo" "$root" <<'JS'
const { existsSync, readFileSync, realpathSync } = require('node:fs');
const { join, relative } = require('node:path');
const [statusFile, beforeFile, repo, root] = process.argv.slice(2);
const status = JSON.parse(readFileSync(statusFile, 'utf8'));
const before = JSON.parse(readFileSync(beforeFile, 'utf8'));
const planned = new Map(status.releases.map((r) => [r.name, r]));
const problems = [];
for (const p of before) {
  const rel = relative(realpathSync(repo), p.path);
  if (rel === '') continue; // the workspace root
  const dir = join(repo, rel);
  const after = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  const r = planned.get(p.name);
  const releases = r && r.type !== 'none';
  const line = `${p.name.padEnd(22)} ${p.version} -> ${after}${p.private ? ' (private)' : ''}`;
  console.log(line);
  if (p.private) {
    if (after !== p.version) problems.push(`${p.name} is private but was versioned ${after}`);
    continue;
  }
  // changeset version writes CHANGELOG.md, so a package without one (before the dry run)
  // has never been released.
  if (!existsSync(join(root, rel, 'CHANGELOG.md')) && after !== '0.1.0')
    problems.push(`${p.name} has never been released but would come out at ${after}, not 0.1.0`);
  if (releases && after !== r.newVersion)
    problems.push(`${p.name}: changeset status announced ${r.newVersion}, version wrote ${after}`);
  if (!releases) {
    if (after !== p.version) problems.push(`${p.name} is not released but changed to ${after}`);
    continue;
  }
  const log = join(dir, 'CHANGELOG.md');
  if (!existsSync(log)) {
    problems.push(`${p.name}: no CHANGELOG.md written`);
    continue;
  }
  const text = readFileSync(log, 'utf8');
  const start = text.indexOf(`\n## ${after}\n`);
  const rest = start < 0 ? '' : text.slice(start + 1);
  const next = rest.indexOf('\n## ', 1);
  const section = next < 0 ? rest : rest.slice(0, next);
  // Entries are "- <commit>: <summary>" or "- <summary>"; none may be empty.
  const entries = section
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => (/^- (?:[0-9a-f]{7,40}:)?(.*)$/.exec(l)?.[1] ?? '').trim());
  if (entries.length === 0) problems.push(`${p.name}: CHANGELOG.md has no entries for ${after}`);
  if (entries.some((e) => e === ''))
    problems.push(`${p.name}: CHANGELOG.md has an empty entry for ${after} (a changeset with no summary)`);
  if (process.env.SHOW === '--show') console.log(`${section.trim()}\n`);
}
if (problems.length) {
  for (const p of problems) console.error(`release-check: ${p}`);
  process.exit(1);
}
console.log('release-check: ok');
JS
