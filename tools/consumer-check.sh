#!/usr/bin/env bash
# Proves an arch package is independently consumable: build, pnpm pack core,
# explore, mm, conformance and one arch package, install only those tarballs
# (plus vitest) in a fresh project, and run the conformance suite on the arch
# there. Usage: tools/consumer-check.sh [arch-name] (default s390).
set -euo pipefail
arch=${1:-s390}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
pnpm build >/dev/null
for p in packages/core packages/explore packages/mm conformance "packages/arch-$arch"; do
  (cd "$p" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
mkdir -p "$work/consumer/test"
cd "$work/consumer"
printf '{ "name": "consumer", "private": true, "type": "module" }\n' >package.json
cat >test/arch.test.ts <<TS
import { runConformance } from '@ptlab/conformance/vitest';
import port from '@ptlab/arch-$arch';

runConformance({ arch: port });
TS
npm install --no-audit --no-fund "$work"/tarballs/*.tgz vitest@4 >/dev/null
npx vitest run
