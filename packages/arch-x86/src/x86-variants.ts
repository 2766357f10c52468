/**
 * Historical x86 variants the seeds show to be wrong. Each is a flag the port
 * switches on in create(config, variant): X86Arch overrides the one function
 * the variant changes. The two PAE ones change generic mm code
 * (mm/pgtable-generic.c, mm/khugepaged.c) that only misbehaves where the pmd
 * is read as two halves, so they live with the x86 port and override core's
 * pmdp_get_lockless_start/end/sync through the optional ArchImpl hooks.
 */
import {
  type ArchVariant,
  COLLAPSE_RECHECK_PMD_ONE_LOCK,
  type Ctx,
  type KGen,
  tlbRemoveTableSyncOne,
} from '@ptlab/core';

export const X86_SEMI_RCU_RECLAIM = 'x86-semi-rcu-reclaim';
export const PAE_NO_IRQ_GUARD = 'pae-no-irq-guard';
export const PAE_NO_LOCKLESS_SYNC = 'pae-no-lockless-sync';
export type X86VariantId =
  | typeof COLLAPSE_RECHECK_PMD_ONE_LOCK
  | typeof X86_SEMI_RCU_RECLAIM
  | typeof PAE_NO_IRQ_GUARD
  | typeof PAE_NO_LOCKLESS_SYNC;

/**
 * tlb_remove_table_one() before seeds/003 ("x86: mm: free page table pages by
 * RCU instead of semi RCU", Qi Zheng, Dec 2024) — mm/mmu_gather.c: no
 * __tlb_remove_table_one() of x86's own, so tlb_remove_table_sync_one() (IPI
 * every CPU and wait) then __tlb_remove_table() at once. Enough for gup_fast
 * with interrupts off, not for pte_offset_map() under rcu_read_lock().
 */
export function* semiRcuTlbRemoveTableOne(
  ctx: Ctx,
  pa: number,
  free: (ctx: Ctx, pa: number) => KGen,
): KGen {
  yield* tlbRemoveTableSyncOne(ctx);
  yield* ctx.call('__tlb_remove_table', free(ctx, pa));
}

/**
 * pmdp_get_lockless_start()/_end() before "[PATCH v3 02/13] mm/pgtable: add
 * PAE safety to __pte_offset_map()": no local_irq_save() around the
 * pmdp_get_lockless() in __pte_offset_map(), so nothing holds off the IPIs
 * between a pmd being cleared and set again.
 */
export function* noIrqGuard(_ctx: Ctx): KGen {}

/**
 * retract_page_tables() without pmdp_get_lockless_sync() after
 * pmdp_collapse_flush(): the flush IPIs only the CPUs in mm_cpumask, so a
 * reader elsewhere (rmap, a driver's hmm walk) still inside its IRQ-disabled
 * pmdp_get_lockless() is not waited for.
 */
export function* noLocklessSync(_ctx: Ctx): KGen {}

export const X86_VARIANTS: readonly ArchVariant[] = [
  {
    id: COLLAPSE_RECHECK_PMD_ONE_LOCK,
    description:
      'The proposed fix of the collapse-one-lock-no-recheck kernel finding (docs/kernel-findings.md): collapse_pte_mapped_thp() step 4 rechecks pmd_same() after pmd_lock() also when the ptl is the pmd lock (NR_CPUS < 4), so a table PT_RECLAIM freed while step 3 ran is not flushed and freed again. Correct: it must pass.',
    seed: 'mm/khugepaged.c collapse_pte_mapped_thp() step 4, the pmd_same() recheck inside "if (ptl != pml)" (v6.13), and mm/pt_reclaim.c try_to_free_pte() (v6.14)',
    configs: ['x86-64-pt-reclaim-nr2'],
    expect: 'pass',
    // It differs only where collapse_pte_mapped_thp() asks ctx.k.has() for it (oneLockRecheck()).
    reachRecorded: true,
  },
  {
    id: X86_SEMI_RCU_RECLAIM,
    description:
      'CONFIG_PT_RECLAIM with the v6.6 single-table fallback: tlb_remove_table_one() IPIs everyone and frees the reclaimed PTE table at once ("semi RCU"); a pte_offset_map() reader inside rcu_read_lock() with interrupts on takes the IPI and goes on reading the freed table.',
    seed: 'seeds/003: "x86: mm: free page table pages by RCU instead of semi RCU" ("IPI cannot be synchronized with rcu_read_lock() in pte_offset_map{_lock}()")',
    configs: ['x86-64-pt-reclaim'],
    expect: 'caught',
    checks: ['use-after-free'],
    // It differs only in tlb_remove_table_one(), which records it.
    reachRecorded: true,
  },
  {
    id: PAE_NO_IRQ_GUARD,
    description:
      '__pte_offset_map() reads the PAE pmd (low, high, low again) with interrupts enabled: the sync IPI after a retract does not wait for it, so it can combine the pmd_low of the retracted table with the pmd_high of the cleared pmd, recheck pmd_low against a fresh table with the same low half, and map a page that is no page table.',
    seed: 'seeds/004: "[PATCH v3 02/13] mm/pgtable: add PAE safety to __pte_offset_map()"',
    configs: ['x86-32-pae'],
    expect: 'caught',
    checks: ['torn-pmd-read'],
  },
  {
    id: PAE_NO_LOCKLESS_SYNC,
    description:
      'retract_page_tables() without pmdp_get_lockless_sync(): pmdp_collapse_flush() IPIs only mm_cpumask, so a lockless reader on another CPU is still inside its interrupts-off pmdp_get_lockless() when the pmd is refilled: a torn pmd.',
    seed: 'seeds/004: "[PATCH v3 02/13] mm/pgtable: add PAE safety to __pte_offset_map()" (pmdp_get_lockless_sync(), "to send the necessary interrupt at the right moment") and "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock"',
    configs: ['x86-32-pae'],
    expect: 'caught',
    checks: ['torn-pmd-read'],
  },
];
