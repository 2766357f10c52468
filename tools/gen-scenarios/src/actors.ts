/**
 * The declared actors: every kernel path that reaches a user PTE table, how
 * it shows in a scenario, and what it needs of the world (a THP in the page
 * cache, one held locked by khugepaged, userfaultfd, a secondary MMU, a
 * hugetlb vma). Each actor targets the table under pmd slot 1 of mm A, so any
 * two actors in a scenario meet on that table.
 */

export type ActorId =
  | 'retract'
  | 'collapse_pte_mapped'
  | 'madv_collapse'
  | 'gup_fast'
  | 'fault'
  | 'uffd_copy'
  | 'dontneed'
  | 'truncate'
  | 'munmap'
  | 'exit'
  | 'rmap'
  | 'secondary_mmu'
  | 'hugetlb_walk'
  | 'adjust_pte';

export interface Actor {
  readonly id: ActorId;
  /** Short name in scenario ids. */
  readonly short: string;
  /** What it is, for descriptions. */
  readonly what: string;
  /** Runs in (or holds a reference on) mm A: it cannot run beside exit_mmap() of A. */
  readonly usesMm: boolean;
  /** Works on a hugetlb vma's table too. */
  readonly hugetlb: boolean;
  /**
   * Needs a THP of the file in the page cache: 'locked' is khugepaged's new
   * THP, held locked and not mapped yet; 'cache' one that is mapped by PTEs
   * (or, beside retract, the locked one).
   */
  readonly thp?: 'cache' | 'locked';
  /** Relative cost (threads that take many steps), to prefer cheap combinations. */
  readonly weight: number;
  /** The thread, in a world that has what it needs. */
  thread(w: World): Record<string, unknown>;
}

/** What the actors of one scenario share. */
export interface World {
  /** The table is a hugetlb vma's (file `huge`), not the shmem file's. */
  readonly hugetlb: boolean;
  readonly thp: 'none' | 'cache' | 'locked';
}

const at = (pte: number) => ({ pmd: 1, pte });

export const ACTORS: readonly Actor[] = [
  {
    id: 'retract',
    short: 'retract',
    what: "khugepaged's retract_page_tables() (collapse_file)",
    usesMm: false,
    hugetlb: false,
    thp: 'locked',
    weight: 3,
    thread: () => ({ name: 'khugepaged', path: 'collapse_file', file: 'shm' }),
  },
  {
    id: 'collapse_pte_mapped',
    short: 'cptm',
    what: "khugepaged's collapse_pte_mapped_thp()",
    usesMm: true,
    hugetlb: false,
    thp: 'cache',
    weight: 3,
    thread: () => ({ name: 'khugepaged_scan', path: 'khugepaged_collapse', mm: 'A', addr: at(0) }),
  },
  {
    id: 'madv_collapse',
    short: 'mcollapse',
    what: 'MADV_COLLAPSE (collapse_pte_mapped_thp(install_pmd))',
    usesMm: true,
    hugetlb: false,
    thp: 'cache',
    weight: 3,
    thread: () => ({ name: 'madvise_collapse', path: 'madvise_collapse', mm: 'A', addr: at(0) }),
  },
  {
    id: 'gup_fast',
    short: 'gup',
    what: 'gup_fast',
    usesMm: true,
    hugetlb: true,
    weight: 1,
    thread: () => ({ name: 'gup', path: 'gup_fast', mm: 'A', addr: at(0) }),
  },
  {
    id: 'fault',
    short: 'fault',
    what: 'a page fault',
    usesMm: true,
    hugetlb: true,
    weight: 2,
    thread: (w) => ({ name: 'fault', path: 'fault', mm: 'A', addr: at(w.hugetlb ? 0 : 2) }),
  },
  {
    id: 'uffd_copy',
    short: 'uffd',
    what: 'UFFDIO_COPY',
    usesMm: true,
    hugetlb: false,
    weight: 2,
    thread: () => ({ name: 'uffd', path: 'uffdio_copy', mm: 'A', addrs: [at(3)] }),
  },
  {
    id: 'dontneed',
    short: 'dontneed',
    what: 'MADV_DONTNEED (with CONFIG_PT_RECLAIM, reclaiming the emptied table)',
    usesMm: true,
    hugetlb: false,
    weight: 2,
    thread: () => ({ name: 'madvise_dontneed', path: 'madvise_dontneed', mm: 'A', pmd: 1 }),
  },
  {
    id: 'truncate',
    short: 'truncate',
    what: 'truncate',
    usesMm: false,
    hugetlb: true,
    weight: 2,
    // On hugetlbfs, a hole over the first two huge pages (the walkers' one and an empty one), not
    // the whole pmd: __unmap_hugepage_range() takes the ptl once per huge page, 256 times over a
    // pmd on ppc32-8xx, and every one is a lock acquisition the search must order.
    thread: (w) =>
      w.hugetlb
        ? { name: 'truncate', path: 'truncate', file: 'huge', holeHugePages: 2 }
        : { name: 'truncate', path: 'truncate', file: 'shm' },
  },
  {
    id: 'munmap',
    short: 'munmap',
    what: 'munmap',
    usesMm: true,
    hugetlb: true,
    weight: 2,
    thread: () => ({ name: 'munmap', path: 'munmap', mm: 'A', addr: at(0) }),
  },
  {
    id: 'exit',
    short: 'exit',
    what: 'exit_mmap',
    usesMm: false,
    hugetlb: true,
    weight: 3,
    thread: () => ({ name: 'exit', path: 'exit_mmap', mm: 'A' }),
  },
  {
    id: 'rmap',
    short: 'rmap',
    what: 'an rmap walk',
    usesMm: false,
    hugetlb: false,
    thp: 'cache',
    weight: 2,
    thread: () => ({ name: 'rmap', path: 'rmap_walk', file: 'shm' }),
  },
  {
    id: 'secondary_mmu',
    short: 'smmu',
    what: 'a secondary MMU (IOMMU SVA)',
    usesMm: false,
    hugetlb: true,
    weight: 2,
    thread: () => ({ name: 'device', path: 'iommu_dma', mm: 'A', addrs: [at(0)] }),
  },
  {
    id: 'hugetlb_walk',
    short: 'hugetlb',
    what: 'a hugetlb walk (huge_pte_offset(), hugetlb_fault())',
    usesMm: true,
    hugetlb: true,
    weight: 2,
    thread: () => ({ name: 'hugetlb_walk', path: 'hugetlb_walk', mm: 'A', addr: at(0) }),
  },
  {
    id: 'adjust_pte',
    short: 'adjust',
    what: "arm's adjust_pte() coherency walk",
    usesMm: true,
    hugetlb: false,
    weight: 2,
    thread: () => ({ name: 'coherency', path: 'adjust_pte', mm: 'A', addr: { pmd: 3, pte: 0 } }),
  },
];

export const actor = (id: ActorId): Actor => {
  const a = ACTORS.find((x) => x.id === id);
  if (!a) throw new Error(`unknown actor ${id}`);
  return a;
};

/** Why two actors can never meet on one table, or null when they can. */
export function cannotMeet(x: Actor, y: Actor): string | null {
  for (const [a, b] of [
    [x, y],
    [y, x],
  ] as const) {
    if (a.id === 'exit' && b.usesMm)
      return `exit_mmap() runs once the last user of the mm is gone (mmput()), so ${b.what} cannot run in that mm beside it`;
    if (a.id === 'exit' && b.id === 'secondary_mmu')
      return 'not in the model: exit_mmap() does not call mmu_notifier_release(), and the IOMMU SVA bond does not hold the mm (mmgrab()), so a device walking an exited mm would be a model artefact (the kernel stops it in the release callback)';
    if (a.id === 'hugetlb_walk' && !b.hugetlb)
      return `a hugetlb table is not reached by ${b.what} (khugepaged, rmap of a file THP, UFFDIO_COPY, MADV_DONTNEED and adjust_pte() are modelled on ordinary file tables only; khugepaged never collapses a VM_HUGETLB vma)`;
  }
  // A THP user beside retract meets khugepaged's new THP locked and unmapped: it waits on the
  // folio lock (collapse_pte_mapped_thp(), faults) or walks the rmap with the lock held elsewhere.
  return null;
}
