/**
 * Every size cap ptlab applies to its input, in one place: scenario files,
 * traces and arch configs are refused at load, naming the cap, when they go
 * beyond one (docs/writing-scenarios.md lists them). The caps are generous
 * enough for generated scenarios; where a schema range is narrower today (an
 * address names pmd slot 0..7), that range is here too, with its reason.
 */

/** Physical memory one word of a simulated page costs the model (a float64 value and a one-byte tag: memory.ts). */
const BYTES_PER_SIMULATED_WORD = 9;

const mms = 8;
const pteTablesPerMm = 512;

export const LIMITS = {
  // --- scenario sizes (the caps) ---
  /** User threads per scenario (the engine keeps a 32-bit task mask that the daemons share). */
  threads: 16,
  /** mms per scenario. */
  mms,
  /** Files per scenario. */
  files: 16,
  /** VMAs per mm. */
  vmasPerMm: 32,
  /** PTE tables an mm may need: one per pmd slot its VMAs cover. */
  pteTablesPerMm,
  /** pmd slots the VMAs of an mm may span: every VMA ends at or before slot 1024. */
  pmdSlots: 1024,
  /** Present PTEs one VMA may list (`ptes`). */
  ptesPerVma: 512,
  /** PMD-sized extents of a file a scenario may name: `pgoffPmds` + `pmds`, `thp.pmdIndex`, `small[].pmd`. */
  fileExtents: 1024,
  /** Small folios one file may list (`small`). */
  smallFoliosPerFile: 512,
  /** Characters in an id or a thread name. */
  nameLength: 64,
  /** Characters in a title, description or seed. */
  textLength: 4000,
  /** Bytes in a scenario file. */
  scenarioFileBytes: 1 << 20,
  /** `exhaustiveSchedules` at most. */
  exhaustiveSchedules: 5000,

  // --- today's schema ranges, narrower than the caps ---
  /**
   * pmd slots a scenario address (vma.pmd, a thread's addr.pmd) names: 0..511,
   * enough for one PTE table more than the most a page packs (ppc64-radix-64k:
   * 256 fragments). Slots 0..15 fit every valid config (ptrsPerPmdMin); a
   * scenario naming a slot beyond a config's PTRS_PER_PMD is not applicable there.
   */
  addrPmdSlots: 512,
  /** PMD-sized extents one VMA covers (`pmds`), and PTE tables it starts with (`tables`): 1..512. */
  vmaPmds: 512,
  /** Pages within a pmd a scenario address names (`pte`, `ptes`, `small[].pte`): 0..15. */
  addrPtes: 16,
  /** Addresses one thread visits (`addrs`, `warm`, hmm_range_fault `pages`): 1..4. */
  addrsPerThread: 4,

  // --- traces ---
  /** Characters in a trace file. */
  traceChars: 16 << 20,
  /** Steps in a trace's schedule (a replay runs at most this many). */
  traceSteps: 100_000,
  /** Kernel patches (known findings' fixes) a trace records. */
  patches: 16,

  // --- arch configs (conformance validatePort) ---
  /** Smallest PAGE_SIZE (PAGE_SHIFT 12, the smallest Linux has). */
  pageSizeMin: 4096,
  /** Largest PAGE_SIZE (PAGE_SHIFT 18: hexagon, powerpc 44x 256K pages). */
  pageSizeMax: 256 << 10,
  /** Smallest PTRS_PER_PTE: every scenario address (`pte` 0..15) must fit in a table. */
  ptrsPerPteMin: 16,
  /** Smallest PTRS_PER_PMD: the pmd slots 0..15 that the suite's small scenarios use must fit in the pmd table. */
  ptrsPerPmdMin: 16,
  /** Largest PTRS_PER_PMD (the model keeps the pmd level in one table). */
  ptrsPerPmdMax: 1 << 16,
  /** CONFIG_PGTABLE_LEVELS range: 2 (folded pmd) to 5 (x86 la57, s390). */
  levelsMin: 2,
  levelsMax: 5,
  /**
   * Page frames one boot may hold at the scenario caps: each mm's pmd table
   * and PTE tables, plus 1024 for mmu_gather batches and reused tables.
   */
  pageFrames: mms * (1 + pteTablesPerMm) + 1024,
  /** The model's bytes per simulated word (value + tag), used in the memory estimate. */
  bytesPerSimulatedWord: BYTES_PER_SIMULATED_WORD,
  /** Cap on the memory estimate pageFrames x PAGE_SIZE / pteSize x bytesPerSimulatedWord: 2 GiB. */
  simulatedMemoryBytes: 2 * 1024 ** 3,
} as const;

/** The shape of LIMITS (a test may check against smaller caps). */
export type Limits = { readonly [K in keyof typeof LIMITS]: number };

/** Worst-case bytes the model's physical memory takes for one boot of a config (see LIMITS.simulatedMemoryBytes). */
export function simulatedMemoryEstimate(config: {
  readonly PAGE_SIZE: number;
  readonly pteSize: number;
}): number {
  return LIMITS.pageFrames * (config.PAGE_SIZE / config.pteSize) * LIMITS.bytesPerSimulatedWord;
}
