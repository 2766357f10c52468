#!/usr/bin/env bash
# Proves the packages are independently consumable, from packed tarballs alone:
# 1. core, explore, mm, conformance and one arch package (plus vitest) in a
#    fresh project, running the conformance suite on that arch with vitest;
# 2. the @ptlab/cli tarball with its dependencies in another fresh project:
#    `npx ptlab --version`, then one conformance cell on child processes.
# Usage: tools/consumer-check.sh [arch-name] (default s390).
set -euo pipefail
arch=${1:-s390}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
pnpm build >/dev/null
for p in packages/core packages/explore packages/mm conformance packages/arch-* tools/cli; do
  (cd "$p" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
tgz() { printf '%s\n' "$work/tarballs/ptlab-$1-"*.tgz; }

echo "== vitest runConformance() on @ptlab/arch-$arch from tarballs"
mkdir -p "$work/consumer/test"
cd "$work/consumer"
printf '{ "name": "consumer", "private": true, "type": "module" }\n' >package.json
cat >test/arch.test.ts <<TS
import { runConformance } from '@ptlab/conformance/vitest';
import port from '@ptlab/arch-$arch';

runConformance({ arch: port });
TS
npm install --no-audit --no-fund $(tgz core) $(tgz explore) $(tgz mm) $(tgz conformance) \
  $(tgz "arch-$arch") vitest@4 >/dev/null
npx vitest run

echo "== the ptlab command from tarballs"
mkdir -p "$work/cli"
cd "$work/cli"
printf '{ "name": "cli-consumer", "private": true, "type": "module" }\n' >package.json
npm install --no-audit --no-fund "$work"/tarballs/*.tgz >/dev/null
npx ptlab --version
npx ptlab conformance --arch x86-64 --scenario retract-vs-lockless-walkers --no-mutants --workers 2 \
  --no-progress --json "$work/cli/report.json"
node -e 'const r = require(process.argv[1]); if (!r.ok || r.cells.length !== 1) process.exit(1)' \
  "$work/cli/report.json"
echo "consumer check: ok"
