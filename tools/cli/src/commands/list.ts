import { mutantCatalogue, type ValidScenario } from '@ptlab/conformance';
import { CHECKS } from '@ptlab/core';
import type { LoadedPort } from '../registry.js';
import type { Listing } from '../report-schema.js';

export type { Listing };

export function listing(
  ports: readonly LoadedPort[],
  scenarios: readonly ValidScenario[],
): Listing {
  return {
    archConfigs: ports.flatMap((p) =>
      p.port.configs.map((c) => ({
        id: c.id,
        arch: c.arch,
        kernel: c.kernel,
        description: c.description,
      })),
    ),
    scenarios: scenarios.map((s) => ({
      id: s.id,
      title: s.title,
      description: s.description,
      requires: [...s.requires],
    })),
    mutants: mutantCatalogue(ports.map((p) => p.port)).map((m) => ({
      id: m.id,
      layer: m.layer,
      expect: m.expect,
      description: m.description,
      seed: m.seed,
    })),
    checks: Object.entries(CHECKS).map(([id, c]) => ({ id, description: c.description })),
  };
}

export function renderListing(l: Listing): string {
  const out: string[] = [];
  const section = (title: string, rows: { id: string; text: string }[]) => {
    out.push(`${title} (${rows.length})`);
    const w = Math.max(...rows.map((r) => r.id.length), 4);
    for (const r of rows) out.push(`  ${r.id.padEnd(w)}  ${r.text}`);
    out.push('');
  };
  section(
    'Arch configs',
    l.archConfigs.map((c) => ({ id: c.id, text: `[${c.kernel}] ${c.description}` })),
  );
  section(
    'Scenarios',
    l.scenarios.map((s) => ({
      id: s.id,
      text: s.title + (s.requires.length ? ` (needs ${s.requires.join(', ')})` : ''),
    })),
  );
  section(
    'Mutants',
    l.mutants.map((m) => ({
      id: m.id,
      text: `[${m.layer}${m.expect === 'pass' ? ', must pass' : ''}] ${m.description}`,
    })),
  );
  section(
    'Checks',
    l.checks.map((c) => ({ id: c.id, text: c.description })),
  );
  return out.join('\n');
}
