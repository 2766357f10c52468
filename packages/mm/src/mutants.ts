import { type CheckId, PMD_LOCK_NOT_RECHECKED, PTE_OFFSET_MAP_WITHOUT_RCU } from '@ptlab/core';

/** A historical version of an mm or core path: a mistake from the seeds or a fixed kernel bug. */
export interface MmMutant {
  readonly id: string;
  readonly description: string;
  /** The seed message (file and subject), or the fix commit (subject, hash), that explains it. */
  readonly seed: string;
  /**
   * The check(s) that ARE this bug: what its mistake must trip. A kill by
   * another check is a kill for another reason (mutant accounting).
   */
  readonly checks: readonly CheckId[];
  /**
   * Conformance capabilities (scenario `requires` ids, e.g. `pt-reclaim`) a
   * config needs for the changed code to run at all, or for its mistake to
   * show: elsewhere the mutant is the mainline kernel, or its bug has nothing
   * to race with, so it is not run there. `thp`: the mistake needs a PTE
   * table that khugepaged retracts or collapse replaces while mmap_lock is
   * not held for write; `tables-vanish`: a PTE table that goes while mmap_lock
   * is held for read, by khugepaged (THP) or CONFIG_PT_RECLAIM. Without them
   * a PTE table goes only under mmap_lock for write (free_pgtables()) or at
   * exit. `table-page-freeable`: the suite can free every table of a page
   * while a walker is inside one (at most 16 tables per page).
   * `split-ptlocks`: the ptl is not the pmd lock. Absent: every config.
   */
  readonly requires?: readonly (
    | 'thp'
    | 'tables-vanish'
    | 'pt-reclaim'
    | 'pmd-low-high'
    | 'table-page-freeable'
    | 'split-ptlocks'
  )[];
}

/** Ids the paths test with `ctx.k.has(id)`. */
export const RETRACT_FREES_IMMEDIATELY = 'retract-frees-immediately';
/** collapse_pte_mapped_thp() before a98460494b16: uffd private does not take pml early. */
export const COLLAPSE_BEFORE_UFFD_FIX = 'collapse-before-uffd-fix';
/** The trylock v2 of the uffd fix: nr_ptes reset, so an abort on the recheck pass skips flush_tlb_mm(). */
export const COLLAPSE_UFFD_FIX_V2_TRYLOCK = 'collapse-uffd-fix-v2-trylock';
/** collapse_pte_mapped_thp() clearing with pte_clear() instead of ptep_clear(). */
export const COLLAPSE_PTE_CLEAR = 'collapse-pte-clear';
/** retract_page_tables() v1: no mmu_notifier_invalidate_range_start()/end() around the pmd clear. */
export const RETRACT_WITHOUT_MMU_NOTIFIER = 'retract-without-mmu-notifier';
/** retract_page_tables() v1: no anon_vma/userfaultfd_wp() recheck under the ptl. */
export const RETRACT_WITHOUT_RECHECK = 'retract-without-recheck';

/** zap_pte_range() (v6.14 PT_RECLAIM) before "mm: pgtable: fix incorrect reclaim of non-empty PTE pages". */
export const ZAP_RECLAIM_AFTER_RETRY = 'zap-reclaim-after-retry';
/** mfill_atomic() with v6.6's BUG_ON(pmd_none(*dst_pmd)) after __pte_alloc(). */
export const UFFD_BUG_ON_YANKED_TABLE = 'uffd-bug-on-yanked-table';
/** collapse_pte_mapped_thp() v1: no pmdp_get_lockless_sync() after pmdp_collapse_flush(). */
export const COLLAPSE_WITHOUT_LOCKLESS_SYNC = 'collapse-without-lockless-sync';
/** handle_pte_fault() before v6.5: pte_offset_map() assumed to succeed, pte_lockptr(mm, pmd) after it. */
export const FAULT_PTE_LOCKPTR = 'fault-pte-lockptr';
/** hmm_vma_walk_pmd() before v6.5: pte_offset_map() assumed to succeed. */
export const HMM_MAP_CANNOT_FAIL = 'hmm-map-cannot-fail';
/** mfill_atomic_install_pte() before v6.5: pte_offset_map_lock() assumed to succeed. */
export const UFFD_MAP_CANNOT_FAIL = 'uffd-map-cannot-fail';
/** zap_pte_range() before v6.5: pte_offset_map_lock() assumed to succeed. */
export const ZAP_MAP_CANNOT_FAIL = 'zap-map-cannot-fail';
/** move_normal_pmd() before "mm/mremap: fix move_normal_pmd/retract_page_tables race". */
export const MREMAP_MOVE_PMD_UNCHECKED = 'mremap-move-pmd-unchecked';

/**
 * Fault injection (KernelOptions `inject`): need_resched() is true once in
 * zap_pte_range(), after it zapped one present PTE, so the ptl is dropped and
 * the range retried (the case "mm: pgtable: fix incorrect reclaim of non-empty
 * PTE pages" is about).
 */
export const INJECT_ZAP_NEED_RESCHED = 'zap-need-resched';

export const MM_MUTANTS: readonly MmMutant[] = [
  {
    id: RETRACT_FREES_IMMEDIATELY,
    description:
      'retract_page_tables() frees the retracted table with pte_free() at once instead of pte_free_defer(): lockless walkers inside rcu_read_lock() still use it.',
    seed: 'seeds/004: "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock" and "[PATCH v3 08/13] mm/pgtable: add pte_free_defer() for pgtable as page"',
    checks: ['use-after-free'],
    requires: ['thp'],
  },
  {
    id: PTE_OFFSET_MAP_WITHOUT_RCU,
    description:
      '__pte_offset_map() without rcu_read_lock() (patch 01/13 absent): a table retracted and freed after a grace period can vanish under a pte_offset_map() user.',
    seed: 'seeds/004: "[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s"',
    checks: ['use-after-free'],
    // Where a page holds 256 tables (powerpc 64K radix) none is freed under a walker before exit.
    requires: ['tables-vanish', 'table-page-freeable'],
  },
  {
    id: COLLAPSE_BEFORE_UFFD_FIX,
    description:
      'collapse_pte_mapped_thp() as in "[PATCH v3 10/13]" before the uffd fix: the ptl is dropped between clearing the PTEs (step 2) and removing the table (step 4) even on a private uffd-armed VMA, so UFFDIO_COPY can install an anon PTE in the table about to be freed: "BUG: Bad rss-counter state ... type:MM_ANONPAGES val:1".',
    seed: 'seeds/004: Jann Horn, "Re: [BUG] Re: [PATCH v3 10/13] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()"; fixed by "[PATCH mm-unstable] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" (a98460494b16)',
    // The leaked PTE shows as rss-mismatch once every task is done, or as check_mm()'s report at exit.
    checks: ['bad-rss-counter', 'rss-mismatch'],
    requires: ['thp'],
  },
  {
    id: COLLAPSE_UFFD_FIX_V2_TRYLOCK,
    description:
      'The trylock v2 of the uffd fix: spin_trylock(pml) with the ptl held; on failure drop and retake the ptl and, for uffd private, go back to clear the table again. nr_ptes was reset to 0 after step 3, so when the recheck pass aborts the abort path skips flush_tlb_mm(): CPUs keep TLB entries for the PTEs the first pass cleared.',
    seed: 'seeds/004: "[PATCH mm-unstable v2] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" and Hugh Dickins\' reply of 2023-08-22 ("resetting it to 0 there would likely skip the abort path\'s flush_tlb_mm(mm)")',
    checks: ['stale-tlb'],
    // The trylock and its retry exist only where the pmd lock is not the ptl.
    requires: ['thp', 'split-ptlocks'],
  },
  {
    id: COLLAPSE_PTE_CLEAR,
    description:
      'collapse_pte_mapped_thp() clears the PTEs with pte_clear() instead of ptep_clear(): with CONFIG_PAGE_TABLE_CHECK the pages stay counted as mapped, and freeing the THP later BUGs.',
    seed: 'seeds/004: "[PATCH v3 10/13 fix2] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock(): fix2" (reported by Qi Zheng)',
    checks: ['page-table-check'],
    requires: ['thp'],
  },
  {
    id: RETRACT_WITHOUT_MMU_NOTIFIER,
    description:
      'retract_page_tables() v1: clears the pmd with pmdp_collapse_flush() but without mmu_notifier_invalidate_range_start()/end(), so an IOMMU consuming the CPU page tables keeps walking through its cached pointer to the retracted (and later freed) table.',
    seed: 'seeds/004: Jann Horn on "[PATCH 09/12] mm/khugepaged: retract_page_tables() without mmap or vma lock" ("probably wrong for IOMMUv2 users"); v2 changelog "bring back mmu_notifier calls for PMD, per JannH and Jason"',
    checks: ['secondary-mmu-stale'],
    requires: ['thp'],
  },
  {
    id: RETRACT_WITHOUT_RECHECK,
    description:
      'retract_page_tables() v1: checks vma->anon_vma and userfaultfd_wp() only before taking the locks, not again under the ptl, so a racing UFFDIO_COPY into a private VMA can put an anon PTE in the table being retracted: the page leaks, "Bad rss-counter state".',
    seed: 'seeds/004: Jann Horn and Peter Xu on "[PATCH 09/12] mm/khugepaged: retract_page_tables() without mmap or vma lock"; v2 changelog "repeat checks under ptl because UFFD, per PeterX and JannH"',
    // The leaked PTE shows as rss-mismatch once every task is done, or as check_mm()'s report at exit.
    checks: ['bad-rss-counter', 'rss-mismatch'],
    requires: ['thp'],
  },
  {
    id: PMD_LOCK_NOT_RECHECKED,
    description:
      '__pte_offset_map_lock() without the pmd_same() recheck after taking the ptl: a caller that mapped a table just before it was retracted takes its lock afterwards and writes a PTE into the detached table.',
    seed: 'seeds/004: "[PATCH v3 13/13] mm/pgtable: notes on pte_offset_map[_lock]()" ("*pmd is rechecked after acquiring the ptlock, and retried internally if it changed: so that a page table can be safely removed or replaced by THP while holding its lock")',
    checks: ['write-to-detached-table'],
    requires: ['tables-vanish'],
  },
  {
    id: ZAP_RECLAIM_AFTER_RETRY,
    description:
      'zap_pte_range() with CONFIG_PT_RECLAIM as merged for v6.14-rc1: when need_resched() (or force_break) makes it drop the ptl midway and retry, the retry pass still takes the fast path, clearing the pmd and freeing the table without rechecking the PTEs it zapped before the break, which a fault may have refilled meanwhile: a table with a present PTE is freed (the page is never unmapped: Bad rss-counter state, a leaked mapping).',
    seed: 'upstream "mm: pgtable: fix incorrect reclaim of non-empty PTE pages" (Qi Zheng, 2025-02-11, mm-hotfixes; Fixes: 6375e95f381e "mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED)"; reported by Christian Brauner and Qu Wenruo), mm/memory.c zap_pte_range()',
    // The leaked PTE shows as rss-mismatch once every task is done, or as check_mm()'s report at exit.
    checks: ['bad-rss-counter', 'rss-mismatch'],
    // The fast path's spin_trylock(pml) always fails under its own ptl when the two are one lock.
    requires: ['pt-reclaim', 'split-ptlocks'],
  },
  {
    id: UFFD_BUG_ON_YANKED_TABLE,
    description:
      'mfill_atomic() as in v6.6..v6.10: after __pte_alloc() it asserts BUG_ON(pmd_none(*dst_pmd)) and BUG_ON(pmd_trans_huge(*dst_pmd)), but since khugepaged retracts shmem page tables without mmap_lock the table can be gone (pmd none) right there: kernel BUG.',
    seed: 'upstream "userfaultfd: don\'t BUG_ON() if khugepaged yanks our page table" (Jann Horn, 4828d207dc51, Aug 2024; Fixes: 1d65b771bc08 "mm/khugepaged: retract_page_tables() without mmap or vma lock"), mm/userfaultfd.c mfill_atomic()',
    checks: ['kernel-bug'],
    requires: ['tables-vanish'],
  },
  {
    id: COLLAPSE_WITHOUT_LOCKLESS_SYNC,
    description:
      'collapse_pte_mapped_thp() as in v1 of the series: after pmdp_collapse_flush() it drops the pmd lock without pmdp_get_lockless_sync(), so on a config whose pmd is read as two halves (x86-32 PAE) a pte_offset_map() reader inside its IRQ-disabled pmdp_get_lockless() window can combine the old pmd_low with the pmd_high of a table installed next (UFFDIO_COPY) and map a page that is no page table.',
    seed: 'seeds/004: "[PATCH v2 10/12] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()" changelog ("v2: pmdp_get_lockless_sync() to issue missing interrupt if PAE"), merged as 1043173eb5eb; with "[PATCH v3 02/13] mm/pgtable: add PAE safety to __pte_offset_map()"',
    checks: ['torn-pmd-read'],
    requires: ['pmd-low-high', 'thp'],
  },
  {
    id: FAULT_PTE_LOCKPTR,
    description:
      'handle_pte_fault() as before v6.5: vmf->pte = pte_offset_map(vmf->pmd), read as if it could not fail, and later vmf->ptl = pte_lockptr(mm, vmf->pmd), which re-reads *pmd: once khugepaged may retract the table under mmap_read_lock, the map can fail (NULL dereference) or the lock taken is not the lock of the table mapped.',
    seed: 'upstream "mm/memory: handle_pte_fault() use pte_offset_map_nolock()" (Hugh Dickins, v6.5, "mm: allow pte_offset_map[_lock]() to fail" series); seeds/004 "[PATCH v3 13/13] mm/pgtable: notes on pte_offset_map[_lock]()" (pte_offset_map_nolock() "provides the correct spinlock pointer for the page table that it returns")',
    checks: ['wrong-ptl', 'kernel-bug'],
    requires: ['tables-vanish'],
  },
  {
    id: HMM_MAP_CANNOT_FAIL,
    description:
      'hmm_vma_walk_pmd() as before v6.5: after checking the pmd value it calls pte_offset_map(pmdp, addr), which reads *pmd again, and uses the result as if it could not fail; a table retracted in between makes it NULL: NULL pointer dereference.',
    seed: 'upstream "mm/hmm: retry if pte_offset_map() fails" (Hugh Dickins, v6.5, "mm: allow pte_offset_map[_lock]() to fail" series), mm/hmm.c hmm_vma_walk_pmd()',
    checks: ['kernel-bug'],
    requires: ['tables-vanish'],
  },
  {
    id: UFFD_MAP_CANNOT_FAIL,
    description:
      "mfill_atomic_install_pte() as before v6.5: dst_pte = pte_offset_map_lock() is used without a NULL check, so when khugepaged retracts the table between mfill_atomic()'s __pte_alloc() and the map, UFFDIO_COPY dereferences NULL (v6.5 returns -EAGAIN, which userspace retries).",
    seed: 'upstream "mm/userfaultfd: allow pte_offset_map_lock() to fail" (Hugh Dickins, v6.5; "[PATCH v2 15/32]" of "mm: allow pte_offset_map[_lock]() to fail", -EAGAIN "which mfill_atomic() already returns to user for a similar race", per Peter Xu), mm/userfaultfd.c',
    checks: ['kernel-bug'],
    requires: ['tables-vanish'],
  },
  {
    id: ZAP_MAP_CANNOT_FAIL,
    description:
      'zap_pte_range() as before v6.5: start_pte = pte_offset_map_lock() is used without a NULL check, but exit_mmap() zaps with mmap_lock while retract_page_tables() may remove the table without it (zap_pmd_range() saw the pmd point to a table just before): NULL pointer dereference. v6.5 returns without progress and zap_pmd_range() retries the pmd.',
    seed: 'upstream "mm/memory: allow pte_offset_map[_lock]() to fail" (Hugh Dickins, v6.5; "[PATCH v2 28/32]" of "mm: allow pte_offset_map[_lock]() to fail"), mm/memory.c zap_pte_range(); with "[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock"',
    checks: ['kernel-bug'],
    requires: ['tables-vanish'],
  },
  {
    id: MREMAP_MOVE_PMD_UNCHECKED,
    description:
      'move_normal_pmd() as in v6.6..v6.12-rc: move_page_tables() reads the old pmd and decides to move the whole table before it takes the rmap lock, so khugepaged\'s retract_page_tables() can clear that pmd in between; move_normal_pmd() then copies the none pmd and pmd_populate()s the new pmd with pmd_pgtable() of it: physical page 0 becomes a page table of the mm ("likely exploitable for user->kernel privilege escalation").',
    seed: 'upstream "mm/mremap: fix move_normal_pmd/retract_page_tables race" (Jann Horn, David Hildenbrand, Oct 2024, mm-hotfixes, stable; Fixes: 1d65b771bc08 "mm/khugepaged: retract_page_tables() without mmap or vma lock"; Closes: project-zero 371047675), mm/mremap.c move_normal_pmd()',
    checks: ['bogus-pmd'],
    requires: ['thp'],
  },
];

export { PMD_LOCK_NOT_RECHECKED, PTE_OFFSET_MAP_WITHOUT_RCU };
