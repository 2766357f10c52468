import {
  type ArchImpl,
  addMmCounter,
  type Ctx,
  type Folio,
  Kernel,
  type KGen,
  lockHeldBy,
  MM_ANONPAGES,
  type Mm,
  mmCounterFile,
  mmIncNrPtes,
  pmdLockptr,
  pmdOffset,
  pmdPopulate,
  pmdSize,
  pteOffsetMapLock,
  pteUnmapUnlock,
  runToEnd,
  SecondaryMmu,
  setPteAt,
  spinLock,
  spinUnlock,
  Vma,
} from '@ptlab/core';
import type { Program } from '@ptlab/explore';
import { folioMapped, teardownAll } from '@ptlab/mm';
import { PATHS } from './paths/index.js';
import type { World } from './paths/types.js';
import { threadRuns, type ValidScenario } from './scenario-schema.js';

export interface ProgramOptions {
  /** Creates the arch implementation for one boot (a port's create(), possibly for a variant). */
  readonly arch: () => ArchImpl;
  /** mm/core variants (mutants) switched on. */
  readonly variants: readonly string[];
  /** Collects every variant id the kernel code asks about, in every boot (Kernel `consulted`). */
  readonly consulted?: Set<string> | undefined;
}

function* populateEmptyTable(ctx: Ctx, mm: Mm, addr: number): KGen {
  const pmdp = pmdOffset(ctx, mm, addr);
  const pa = yield* ctx.k.arch.pteAllocOne(ctx, mm);
  if (pa === null) throw new Error('setup: out of memory');
  const pml = pmdLockptr(ctx, mm, pmdp);
  yield* spinLock(ctx, pml);
  mmIncNrPtes(ctx, mm);
  yield* pmdPopulate(ctx, mm, pmdp, pa);
  yield* spinUnlock(ctx, pml);
}

/**
 * The PTEs an anonymous vma starts with: each maps a page of its own, as a
 * write fault's do_anonymous_page() would have (MM_ANONPAGES, its only
 * reference the mapping's).
 */
function* mapAnonPages(ctx: Ctx, vma: Vma, ptes: readonly number[]): KGen {
  const a = ctx.k.arch;
  for (const p of ptes) {
    const addr = vma.start + p * ctx.k.config.PAGE_SIZE;
    const folio = ctx.k.createFolio(`anon#${ctx.k.folios.length}@${vma.mm.id}`, 0, null, 0);
    const m = yield* pteOffsetMapLock(ctx, vma.mm, pmdOffset(ctx, vma.mm, addr), addr);
    if (!m) throw new Error('setup: no PTE table');
    yield* setPteAt(ctx, vma.mm, m.pte, a.mkPte(folio.pfn, { write: true }));
    folio.mapcount++;
    addMmCounter(vma.mm, MM_ANONPAGES, 1);
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  }
}

/** The PTEs a scenario pre-populates: each maps the file page at its offset, as a fault would have. */
function* mapFilePages(ctx: Ctx, vma: Vma, ptes: readonly number[]): KGen {
  const a = ctx.k.arch;
  const file = vma.file;
  if (!file) return yield* mapAnonPages(ctx, vma, ptes);
  for (const p of ptes) {
    const addr = vma.start + p * ctx.k.config.PAGE_SIZE;
    const index = vma.pgoff + p;
    const folio = file.folioAt(index);
    if (!folio) throw new Error(`setup: ${file.id} has no page at ${index}`);
    const m = yield* pteOffsetMapLock(ctx, vma.mm, pmdOffset(ctx, vma.mm, addr), addr);
    if (!m) throw new Error('setup: no PTE table');
    // A page-cache page is mapped writable only in a shared mapping.
    const pte = a.mkPte(folio.pfn + (index - folio.index), { write: vma.flags.shared });
    yield* setPteAt(ctx, vma.mm, m.pte, pte);
    folioMapped(ctx, folio);
    addMmCounter(vma.mm, mmCounterFile(folio), 1);
    yield* pteUnmapUnlock(ctx, m.pte, m.ptl);
  }
}

/**
 * The bytes of a scenario's `hugetlbPage` on this kernel's config: PMD_SIZE, or
 * the arch's first PTE-level size. The runner runs the scenario only where the
 * config has the capability the schema made it require (`hugetlb-pmd`,
 * `hugetlb-pte`); run anyway elsewhere, `pte` falls back as an unsized vma does.
 */
function hugetlbPageSize(k: Kernel, page: 'pte' | 'pmd'): number | undefined {
  return page === 'pmd' ? pmdSize(k.boot) : k.arch.hugetlbPteSizes[0];
}

/** Build the initial address space a scenario describes, on a fresh kernel (no scheduling: boot context). */
function setUp(k: Kernel, s: ValidScenario): World {
  const ctx = k.boot;
  const PMD_SIZE = pmdSize(ctx);
  const mms = new Map<string, Mm>();
  const files = new Map<string, ReturnType<Kernel['createFile']>>();
  const thps = new Map<string, Folio>();
  for (const f of s.files) {
    const as = k.createFile(f.id, f.shmem);
    files.set(f.id, as);
    if (f.thp) {
      const order = Math.log2(k.config.PTRS_PER_PTE);
      thps.set(
        f.id,
        k.createFolio(
          `THP ${f.id}@${f.thp.pmdIndex}`,
          order,
          as,
          f.thp.pmdIndex * k.config.PTRS_PER_PTE,
        ),
      );
    }
    for (const x of f.small) {
      const index = x.pmd * k.config.PTRS_PER_PTE + x.pte;
      k.createFolio(`${f.id}@${index}`, 0, as, index);
    }
  }
  for (const m of s.mms) {
    const mm = k.createMm(m.id);
    mms.set(m.id, mm);
    for (const v of m.vmas) {
      const file = v.file === undefined ? null : (files.get(v.file) ?? null);
      const start = v.pmd * PMD_SIZE;
      const hugetlbSize = v.hugetlbPage ? hugetlbPageSize(k, v.hugetlbPage) : undefined;
      const flags = {
        shared: v.shared,
        uffdMissing: v.uffd.includes('missing'),
        uffdWp: v.uffd.includes('wp'),
        ...(v.hugetlb ? { hugetlb: true } : {}),
        // huge_page_size(hstate_vma()): the hstate the scenario names, checked against the config's.
        ...(hugetlbSize !== undefined ? { hugetlbSize } : {}),
      };
      const vma = new Vma(
        mm,
        start,
        start + v.pmds * PMD_SIZE,
        flags,
        file,
        v.pgoffPmds * k.config.PTRS_PER_PTE,
      );
      // An anonymous vma's pages were written, so it has its anon_vma (anon_vma_prepare()).
      vma.anonVma = v.anonVma || (file === null && v.ptes.length > 0);
      mm.vmas.push(vma);
      file?.iMmap.push(vma);
      if (v.pteTable)
        for (let i = 0; i < v.tables; i++)
          runToEnd(populateEmptyTable(ctx, mm, start + i * PMD_SIZE));
      if (v.ptes.length) runToEnd(mapFilePages(ctx, vma, v.ptes));
    }
    if (m.secondaryMmu) new SecondaryMmu(`iommu(${m.id})`, mm, PMD_SIZE, k.config.PAGE_SIZE);
  }
  return { k, mms, files, thps };
}

/** A scenario on one arch config, as a Program the explorer can run. */
export function scenarioProgram(s: ValidScenario, opts: ProgramOptions): Program {
  return {
    boot() {
      const k = new Kernel({
        arch: opts.arch(),
        variants: opts.variants,
        inject: s.inject ?? [],
        consulted: opts.consulted,
      });
      const w = setUp(k, s);
      for (const t of s.threads) {
        // A thread that requires what this config lacks (khugepaged without THP) does not run.
        if (!threadRuns(t, k.config)) continue;
        const def = PATHS[t.path];
        if (!def) throw new Error(`unknown path ${t.path}`);
        const mmId = def.mmOf?.(t.args);
        const mm = mmId ? w.mms.get(mmId) : undefined;
        const task = k.spawn(t.name, def.run(w, t.args), mm ? { mm } : {});
        for (const f of s.files) {
          const folio = w.thps.get(f.id);
          if (folio && f.thp?.lockedBy === t.name) lockHeldBy(folio.lock, task.ctx.cpu);
        }
      }
      return k;
    },
    teardown: teardownAll,
  };
}
