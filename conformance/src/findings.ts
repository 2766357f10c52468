/**
 * Kernel findings: checks that fire on the mainline (non-mutant) model, where
 * the model is faithful and the kernel is wrong. They are not hidden (the
 * scenario that reaches one stays as it is) but reported apart from
 * conformance: a known finding does not make a run red, and conformance cells
 * are judged with its proposed fix applied as a kernel patch (knownFixes()),
 * so everything else in them is still checked. docs/kernel-findings.md says
 * how to check each one on a real kernel and how to report it upstream.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArchPort, CheckId, Finding } from '@ptlab/core';
import { mutantCatalogue } from './mutants.js';
import { type BudgetStep, runCell } from './runner.js';
import type { ValidScenario } from './scenario-schema.js';

/** Where the captured stories live (next to src/ and dist/ alike). */
export const FINDINGS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'findings');

/** One place in the kernel source the finding rests on. */
export interface KernelSource {
  readonly file: string;
  readonly fn: string;
  /** Releases read, e.g. `v6.6, v6.14+ ([PPCnew])`. */
  readonly version: string;
  /** What the code does there, for the finding. */
  readonly what: string;
}

export interface KernelFinding {
  readonly id: string;
  readonly title: string;
  /** Arch configs of the model on which it fires. */
  readonly configs: readonly string[];
  /** The (minimal) scenario that reaches it; other scenarios may too. */
  readonly scenario: string;
  readonly check: CheckId;
  /** A regular expression the finding's message matches: this bug, not another with the same check. */
  readonly message: string;
  readonly source: readonly KernelSource[];
  /** The minimised story, as `ptlab check --arch <configs[0]> --scenario <scenario> --strategy exhaustive` printed it (file in FINDINGS_DIR). */
  readonly story: string;
  /**
   * The proposed fix: an arch variant of `arch` (expect: 'pass') that must pass, and
   * a kernel patch id the same port honours through `ctx.k.has()`.
   */
  readonly fix: { readonly arch: string; readonly variant: string; readonly what: string };
  /** Where it stands upstream. */
  readonly upstream: string;
  /** Who is exposed on a real system, and what happens there. */
  readonly impact: string;
}

export const KERNEL_FINDINGS: readonly KernelFinding[] = [
  {
    id: 'powerpc-frag-destroy-active',
    title:
      'powerpc book3s64 64K: pte_frag_destroy() frees a page whose fragment was pte_free_defer()ed with PG_active still set',
    configs: ['ppc64-hash-64k', 'ppc64-radix-64k'],
    scenario: 'deferred-fragment-freed-at-exit',
    check: 'bad-page-state',
    message: 'pte_frag_destroy: BUG: Bad page state .*flags:\\(active\\).*PAGE_FLAGS_CHECK_AT_FREE',
    source: [
      {
        file: 'arch/powerpc/mm/pgtable-frag.c',
        fn: 'pte_free_defer()',
        version: 'v6.6 (32cc0b7c9d50) through v7.0',
        what: 'SetPageActive(page) then pte_fragment_free(pgtable, 0): PG_active marks "some fragment of this page was deferred"; the page is freed only when its last fragment reference goes.',
      },
      {
        file: 'arch/powerpc/mm/pgtable-frag.c',
        fn: 'pte_fragment_free()',
        version: 'v6.6; v6.14+ spelled folio_test_clear_active()',
        what: 'on the last reference: TestClearPageActive() ? call_rcu(pte_free_now) : pte_free_now() — the only place PG_active is cleared.',
      },
      {
        file: 'arch/powerpc/mm/pgtable-frag.c',
        fn: 'pte_frag_destroy()',
        version: 'v6.6 and the v6.14+ file (pagetable_dtor())',
        what: 'from destroy_context() at __mmdrop(): atomic_sub_and_test(PTE_FRAG_NR - count, &pt_frag_refcount) for the cached page, then pagetable_pte_dtor()/pagetable_dtor() + pagetable_free() — no PG_active test or clear.',
      },
      {
        file: 'include/linux/page-flags.h, mm/page_alloc.c',
        fn: 'PAGE_FLAGS_CHECK_AT_FREE, free_page_is_bad()',
        version: 'v6.6',
        what: 'PG_active is in PAGE_FLAGS_CHECK_AT_FREE; with check_pages_enabled (CONFIG_DEBUG_VM) free_pages_prepare() calls bad_page(): "BUG: Bad page state ... page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set", and the page is not freed (leaked).',
      },
    ],
    story: 'powerpc-frag-destroy-active.ppc64-hash-64k.story.txt',
    fix: {
      arch: 'powerpc',
      variant: 'powerpc-frag-destroy-clear-active',
      what: 'pte_frag_destroy(): folio_clear_active(ptdesc_folio(ptdesc)) before pagetable_dtor() + pagetable_free() when the count reaches zero (the mm is dead: no walker needs the grace period).',
    },
    upstream:
      'Known and fixed upstream: "powerpc/pgtable-frag: Fix bad page state in pte_frag_destroy" (Ritesh Harjani (IBM), linuxppc-dev, patch 1 of a powerpc/64s selftest-fixes series, v2 March 2026; Reviewed-by Christophe Leroy; Fixes: 32cc0b7c9d50 ("powerpc: add pte_free_defer() for pgtables sharing page")); powerpc next fda4d71651f7, stable backports (e.g. c8b710655012, 71fd0521a4e5, 5b6cd12a89c5); CVE-2026-53109. The reported trace: bad_page < __free_frozen_pages < pte_frag_destroy < arch_exit_mmap < exit_mmap on a 6.18-rc3 pSeries (qemu, POWER10) kernel. Every release v6.6 .. v7.0 without the backport has it.',
    impact:
      'book3s64 with 64K pages (hash or radix: the configs with both THP and PTE_FRAG_NR > 1), CONFIG_DEBUG_VM (or another setting that enables check_pages_enabled): an mm that exits while the page holding a table retracted by khugepaged / MADV_COLLAPSE is still its fragment cache page logs "BUG: Bad page state" and leaks that page. Without the free-time checks the page is freed with PG_active set (PAGE_FLAGS_CHECK_AT_PREP clears it at the next allocation): no memory-safety consequence, the skipped grace period is harmless for a dead mm.',
  },
  {
    id: 'collapse-one-lock-no-recheck',
    title:
      'v6.13+ collapse_pte_mapped_thp() without split PTE ptlocks: step 4 does not recheck the pmd, so a table PT_RECLAIM freed meanwhile is flushed and pte_free_defer()ed again',
    configs: ['x86-64-pt-reclaim-nr2'],
    scenario: 'gen-cptm-dontneed',
    check: 'kernel-bug',
    message: 'pmdp_collapse_flush\\(\\) returned pmd 0x0, which points to no page table',
    source: [
      {
        file: 'mm/khugepaged.c',
        fn: 'collapse_pte_mapped_thp()',
        version:
          'v6.13+ ("mm: khugepaged: collapse_pte_mapped_thp() use pte_offset_map_rw_nolock()", Qi Zheng), as merged; the same shape in the 2026 try_collapse_pte_mapped_thp()',
        what: 'step 2 ends with "if (!pml) spin_unlock(ptl)" (start_pte stays mapped); step 4 takes "pml = pmd_lock(mm, pmd)" and rechecks pmd_same(pgt_pmd, pmdp_get_lockless(pmd)) only inside "if (ptl != pml)", then pgt_pmd = pmdp_collapse_flush(), mm_dec_nr_ptes(), pte_free_defer(mm, pmd_pgtable(pgt_pmd)).',
      },
      {
        file: 'mm/pt_reclaim.c, mm/memory.c',
        fn: 'try_to_free_pte(), zap_pte_range()',
        version: 'v6.14',
        what: 'MADV_DONTNEED (mmap_read_lock, like khugepaged) zaps the table step 2 emptied; with ptl == pml the trylock in try_get_and_clear_pmd() fails under its own ptl, so try_to_free_pte() takes pml, finds the table empty, pmd_clear()s it, and free_pte() frees it (pte_free_tlb(), mm_dec_nr_ptes()).',
      },
      {
        file: 'mm/Kconfig',
        fn: 'SPLIT_PTE_PTLOCKS, PT_RECLAIM',
        version: 'v6.14',
        what: 'SPLIT_PTE_PTLOCKS needs NR_CPUS >= 4; PT_RECLAIM needs only ARCH_SUPPORTS_PT_RECLAIM (x86_64), MMU and SMP: an x86_64 SMP kernel with NR_CPUS=2 or 3 has PT_RECLAIM with ptl == pml.',
      },
    ],
    story: 'collapse-one-lock-no-recheck.x86-64-pt-reclaim-nr2.story.txt',
    fix: {
      arch: 'x86',
      variant: 'collapse-recheck-pmd-one-lock',
      what: 'collapse_pte_mapped_thp() step 4: after pml = pmd_lock(), recheck pmd_same(pgt_pmd, pmdp_get_lockless(pmd)) whether or not ptl != pml (flush_tlb_mm() and unlock when it changed), as the ptl != pml arm already does.',
    },
    upstream:
      'Not reported. Not found on lore by the searches made here (the v6.13 patch review discussed the recheck only for ptl != pml). Needs a real-kernel reproduction before a report.',
    impact:
      'x86_64 SMP kernels with NR_CPUS < 4 (no split PTE ptlocks) and CONFIG_PT_RECLAIM (v6.14+; default y where supported): khugepaged or MADV_COLLAPSE collapsing a file THP races MADV_DONTNEED of the same range. pmdp_collapse_flush() of the cleared (or refilled) pmd, then pte_free_defer(pmd_pgtable()) of a none pmd (pfn 0 as a page table: memory corruption) or of a table a fault has just installed, and nr_ptes decremented twice ("BUG: non-zero pgtables_bytes on freeing mm"). Rare configs, but NR_CPUS=2 kernels exist (small VMs, embedded x86).',
  },
];

/** The known finding `finding` (raised on config `configId`) is an instance of, if any. */
export function matchKnownFinding(configId: string, finding: Finding): KernelFinding | undefined {
  return KERNEL_FINDINGS.find(
    (f) =>
      f.configs.includes(configId) &&
      f.check === finding.check &&
      new RegExp(f.message).test(finding.message),
  );
}

/** Kernel patch ids of the known findings' fixes on `configId`, to judge conformance cells on everything else. */
export function knownFixes(configId: string): string[] {
  return KERNEL_FINDINGS.filter((f) => f.configs.includes(configId)).map((f) => f.fix.variant);
}

/** The captured minimised story of a finding. */
export function findingStory(f: KernelFinding): string {
  return readFileSync(join(FINDINGS_DIR, f.story), 'utf8');
}

/** One config's verdict on one known finding. */
export interface FindingCheck {
  readonly finding: string;
  readonly config: string;
  /** The mainline model still raises it, in its scenario. */
  readonly reproduced: boolean;
  /** The finding's message (or why it did not reproduce). */
  readonly detail: string;
  /** The fresh minimised story of the mainline run, when it reproduced. */
  readonly story?: string;
  /** The proposed fix (as the port's variant) passes the same scenario. */
  readonly fixPasses: boolean;
  readonly fixDetail?: string;
}

export interface CheckFindingOptions {
  /** The ports to look the finding's arch up in. */
  readonly ports: readonly ArchPort[];
  readonly scenarios: readonly ValidScenario[];
  readonly seed?: number;
  readonly budget?: readonly BudgetStep[];
}

/**
 * Re-run a known finding on each of its configs the given ports have: it must
 * still fire on the mainline model (same check, matching message), and its
 * fix must pass. For the report, apart from conformance.
 */
export function checkKnownFinding(f: KernelFinding, o: CheckFindingOptions): FindingCheck[] {
  const port = o.ports.find((p) => p.arch === f.fix.arch);
  const scenario = o.scenarios.find((s) => s.id === f.scenario);
  const fix = mutantCatalogue(port ? [port] : []).find((m) => m.id === f.fix.variant);
  const out: FindingCheck[] = [];
  if (!port || !scenario || !fix) return out;
  const cell = { seed: o.seed ?? 1, ...(o.budget ? { budget: o.budget } : {}) };
  for (const config of port.configs.filter((c) => f.configs.includes(c.id))) {
    const main = runCell({ port, config, scenario, ...cell });
    const reproduced =
      main.result === 'fail' && !!main.finding && matchKnownFinding(config.id, main.finding) === f;
    const fixed = runCell({ port, config, scenario, mutant: fix, ...cell });
    out.push({
      finding: f.id,
      config: config.id,
      reproduced,
      detail: main.reason ?? `${main.result}: no check fired`,
      ...(reproduced && main.story ? { story: main.story } : {}),
      fixPasses: fixed.result === 'pass',
      ...(fixed.reason ? { fixDetail: fixed.reason } : {}),
    });
  }
  return out;
}
