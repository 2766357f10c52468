/**
 * Which source files count as kernel-model code for `--coverage`, and the
 * package each belongs to: every file of @ptlab/mm and of each
 * @ptlab/arch-* package, core's kernel functions (CORE_KERNEL_FILES), and
 * the files of an `--arch-module` outside node_modules. Engine plumbing (the
 * scheduler's side of core, the checks' own bookkeeping, errors, limits) is
 * not kernel code and is left out.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/**
 * packages/core/src files that model kernel functions (or the hardware they
 * drive): RCU, locks, interrupts and IPIs, the page allocator, struct page,
 * the pte_offset_map() contract and pgtable helpers, mm_struct and check_mm(),
 * the mmu_gather and TLBs, hugetlb helpers, CONFIG_PAGE_TABLE_CHECK, the
 * hardware walk and the secondary MMU. Left out as engine plumbing: step.ts,
 * context.ts, kernel.ts (the simulator's boot and task set), deps.ts,
 * memory.ts (tagged words), pgtable-registry.ts (table identity), checks.ts,
 * tlb-check.ts, state-digest.ts, errors.ts, limits.ts, kernel-version.ts,
 * visible.ts, testing.ts, cpu.ts, arch-port.ts (the port interface) and index.ts.
 */
export const CORE_KERNEL_FILES: readonly string[] = [
  'arch-generic.ts',
  'hugetlb.ts',
  'hw-walk.ts',
  'irq.ts',
  'locks.ts',
  'mm.ts',
  'page-alloc.ts',
  'page-table-check.ts',
  'page.ts',
  'pgtable.ts',
  'rcu.ts',
  'secondary-mmu.ts',
  'tlb.ts',
];

/** The packages whose unreached branches must each be in the allow-list (the 95% target). */
export const TARGET_PACKAGE = /^@ptlab\/(mm|arch-[a-z0-9-]+)$/;

/** An arch module's sources: files under `dir` (not in its node_modules), reported as `label`. */
export interface ModuleScope {
  readonly label: string;
  readonly dir: string;
}

const OWN = /(?:^|[\\/])(?:packages|@ptlab)[\\/](mm|core|arch-[a-z0-9-]+)[\\/]src[\\/](.+\.ts)$/;

/** The package a source file belongs to, or null when it is not kernel-model code. */
export function packageOf(file: string, modules: readonly ModuleScope[] = []): string | null {
  for (const m of modules) {
    const r = relative(m.dir, file);
    if (r && !r.startsWith('..') && !isAbsolute(r) && !r.split(sep).includes('node_modules'))
      return m.label;
  }
  const own = OWN.exec(file);
  if (!own) return null;
  const [, pkg, rest] = own as unknown as [string, string, string];
  if (rest.endsWith('.d.ts')) return null;
  if (pkg === 'core' && !CORE_KERNEL_FILES.includes(rest)) return null;
  return `@ptlab/${pkg}`;
}

/** An arch module's sources: the package its entry file belongs to (nearest package.json), or its directory. */
export function moduleScope(label: string, entry: string): ModuleScope {
  for (let d = dirname(entry); ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return { label, dir: d };
    if (dirname(d) === d) return { label, dir: dirname(entry) };
  }
}
