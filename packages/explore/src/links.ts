/**
 * Links a story and the trace viewer print: each step to the kernel source of
 * the function it models, at the kernel release its config claims (Elixir,
 * the public cross-referencer at elixir.bootlin.com), and each seed citation
 * to its mailing-list message on lore.kernel.org by Message-ID.
 */
import type { StepRecord } from './execution.js';

export const ELIXIR = 'https://elixir.bootlin.com/linux';
export const LORE = 'https://lore.kernel.org';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RELEASE = /^v\d+\.\d+$/;

/** Elixir's page for kernel identifier `fn` at release `kernel` (`v6.6`): its definition and uses. Null when `fn` is no C identifier. */
export function kernelSourceUrl(fn: string, kernel: string): string | null {
  const name = fn.replace(/\(\)$/, '');
  if (!IDENT.test(name) || !RELEASE.test(kernel)) return null;
  return `${ELIXIR}/${kernel}/C/ident/${name}`;
}

/** What the daemons' own steps model (their call chain is empty between callbacks). */
const DAEMON_FN: Readonly<Record<string, string>> = {
  // rcuDaemon (core/src/rcu.ts): a grace period ends and rcu_core() invokes the callback.
  rcu: 'rcu_core',
  // Kernel.startDaemons(): the workqueue worker picks the next item.
  kworker: 'process_one_work',
};

/** The kernel function a step models: the innermost of its call chain; null for a task's own return. */
export function stepFunction(r: Pick<StepRecord, 'stack' | 'task'>): string | null {
  const fn = r.stack[r.stack.length - 1];
  if (fn !== undefined) return fn;
  return DAEMON_FN[r.task] ?? null;
}

/**
 * A message the seed citations name. `messageId`: the message itself;
 * `thread`: the Message-ID of a message in its thread (lore shows the whole
 * thread there); neither: no Message-ID was found, so the link is a lore
 * search for the exact subject. `source` says where the Message-ID was read.
 */
export interface SeedMessage {
  readonly subject: string;
  readonly messageId?: string;
  readonly thread?: string;
  readonly source?: string;
}

/** Message-IDs read from the sources named (a commit's Link: tag, a patchwork page, a cover letter's link). */
const V3_05 = '6e3ca5f1-334d-4b14-b92d-fc8e99914fcb@google.com';
const V2_COVER = '54cb04f-3762-987f-8294-91dafd8ebfb0@google.com';
const V1_COVER = '35e983f5-7ed3-b310-d949-9ae8b130cdab@google.com';
const V1_07 = '6dd63b39-e71f-2e8b-7e0-83e02f3bcb39@google.com';
const ARCH_V2_COVER = 'a4963be9-7aa6-350-66d0-2ba843e1af44@google.com';
const MM_V2_COVER = 'c1c9a74a-bc5b-15ea-e5d2-8ec34bc921d@google.com';
const X86_RCU =
  '0287d442a973150b0e1019cc406e6322d148277a.1733305182.git.zhengqi.arch@bytedance.com';

const SRC = {
  v3: 'Link: tag of commit 32cc0b7c9d50 ("powerpc: add pte_free_defer() for pgtables sharing page"), the v3 05/13 posting; the series\' patches are replies to one cover letter',
  v2: 'the v3 cover letter ("This replaces the v2 ... series of 12 posted on 2023-06-20"), seeds/004',
  v1: 'the v2 cover letter ("replaces the v1 ... series of 12 posted on 2023-05-28"), seeds/004',
  v1s390: 'patchwork header quoted in seeds/000',
  arch: 'the v2 "mm: free retracted page table by RCU" cover letter ("v2 arch: allow pte_offset_map[_lock]() to fail ... series of 23 posted on 2023-06-08"), seeds/004',
  mm: 'the v2 "mm: free retracted page table by RCU" cover letter ("v2 mm: allow pte_offset_map[_lock]() to fail ... series of 32 posted on 2023-06-08"), seeds/004',
  x86: 'Link: tag quoted in seeds/003 (the mm-commits mail of its merge)',
};

const v3 = (subject: string): SeedMessage => ({ subject, thread: V3_05, source: SRC.v3 });
const v2 = (subject: string): SeedMessage => ({ subject, thread: V2_COVER, source: SRC.v2 });
const v1 = (subject: string): SeedMessage => ({ subject, thread: V1_COVER, source: SRC.v1 });
const arch = (subject: string): SeedMessage => ({
  subject,
  thread: ARCH_V2_COVER,
  source: SRC.arch,
});
const mmSeries = (subject: string): SeedMessage => ({
  subject,
  thread: MM_V2_COVER,
  source: SRC.mm,
});
const x86 = (subject: string): SeedMessage => ({ subject, thread: X86_RCU, source: SRC.x86 });
/** No Message-ID found for it yet: linked as a lore search for its subject. */
const search = (subject: string): SeedMessage => ({ subject });

/** Every message a seed citation of ptlab's scenarios, mutants and variants names (a test keeps it complete). */
export const SEED_MESSAGES: readonly SeedMessage[] = [
  // "mm: free retracted page table by RCU", v3 (2023-07-11): what the model is built on.
  v3('[PATCH v3 00/13] mm: free retracted page table by RCU'),
  v3('[PATCH v3 01/13] mm/pgtable: add rcu_read_lock() and rcu_read_unlock()s'),
  v3('[PATCH v3 02/13] mm/pgtable: add PAE safety to __pte_offset_map()'),
  v3('[PATCH v3 03/13] arm: adjust_pte() use pte_offset_map_nolock()'),
  {
    subject: '[PATCH v3 05/13] powerpc: add pte_free_defer() for pgtables sharing page',
    messageId: V3_05,
    source: SRC.v3,
  },
  {
    subject: 'powerpc: add pte_free_defer() for pgtables sharing page',
    messageId: V3_05,
    source: SRC.v3,
  },
  v3('[PATCH v3 07/13] s390: add pte_free_defer() for pgtables sharing page'),
  v3('[PATCH v3 08/13] mm/pgtable: add pte_free_defer() for pgtable as page'),
  v3('[PATCH v3 09/13] mm/khugepaged: retract_page_tables() without mmap or vma lock'),
  v3('mm/khugepaged: retract_page_tables() without mmap or vma lock'),
  v3('[PATCH v3 10/13] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()'),
  v3('[PATCH v3 10/13 fix2] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock(): fix2'),
  v3('[PATCH v3 13/13] mm/pgtable: notes on pte_offset_map[_lock]()'),
  v3(
    'Re: [BUG] Re: [PATCH v3 10/13] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()',
  ),
  // v2 (2023-06-20) and v1 (2023-05-28) of the same series, and their reviews.
  {
    subject: '[PATCH v2 00/12] mm: free retracted page table by RCU',
    messageId: V2_COVER,
    source: SRC.v2,
  },
  v2('[PATCH v2 05/12] powerpc: add pte_free_defer() for pgtables sharing page'),
  v2('[PATCH v2 10/12] mm/khugepaged: collapse_pte_mapped_thp() with mmap_read_lock()'),
  v1('[PATCH 05/12] powerpc: add pte_free_defer() for pgtables sharing page'),
  v1('Re: [PATCH 05/12] powerpc: add pte_free_defer() for pgtables sharing page'),
  v1('[PATCH 09/12] mm/khugepaged: retract_page_tables() without mmap or vma lock'),
  {
    subject: '[07/12] s390: add pte_free_defer(), with use of mmdrop_async()',
    messageId: V1_07,
    source: SRC.v1s390,
  },
  {
    subject: 'Re: [PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async()',
    thread: V1_07,
    source: SRC.v1s390,
  },
  // "arch: allow pte_offset_map[_lock]() to fail", v2 (2023-06-08).
  arch('[PATCH v2 01/23] arm: allow pte_offset_map[_lock]() to fail'),
  arch('arm: allow pte_offset_map[_lock]() to fail'),
  arch('[PATCH v2 03/23] arm64/hugetlb: pte_alloc_huge() pte_offset_huge()'),
  arch('[PATCH v2 07/23] mips: update_mmu_cache() can replace __update_tlb()'),
  arch('[PATCH v2 07/23 replacement] mips: add pte_unmap() to balance pte_offset_map()'),
  arch('mips: add pte_unmap() to balance pte_offset_map()'),
  arch('[PATCH v2 12/23] powerpc: allow pte_offset_map[_lock]() to fail'),
  arch('powerpc: allow pte_offset_map[_lock]() to fail'),
  arch('[PATCH v2 13/23] powerpc/hugetlb: pte_alloc_huge()'),
  arch('powerpc/hugetlb: pte_alloc_huge()'),
  arch('[PATCH v2 14/23] riscv/hugetlb: pte_alloc_huge() pte_offset_huge()'),
  arch('[PATCH v2 18/23] sparc/hugetlb: pte_alloc_huge() pte_offset_huge()'),
  arch('[PATCH v2 19/23] sparc: allow pte_offset_map() to fail'),
  // "mm: allow pte_offset_map[_lock]() to fail", v2 (2023-06-08).
  { subject: 'mm: allow pte_offset_map[_lock]() to fail', messageId: MM_V2_COVER, source: SRC.mm },
  mmSeries('[PATCH v2 15/32]'),
  mmSeries('[PATCH v2 28/32]'),
  mmSeries('mm/userfaultfd: allow pte_offset_map_lock() to fail'),
  mmSeries('mm/memory: allow pte_offset_map[_lock]() to fail'),
  mmSeries('mm/memory: handle_pte_fault() use pte_offset_map_nolock()'),
  mmSeries('mm/hmm: retry if pte_offset_map() fails'),
  // x86 page tables freed by RCU and PT_RECLAIM (Qi Zheng, Dec 2024).
  {
    subject: 'x86: mm: free page table pages by RCU instead of semi RCU',
    messageId: X86_RCU,
    source: SRC.x86,
  },
  x86('synchronously scan and reclaim empty user PTE pages'),
  x86('mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED)'),
  // Fixes whose Message-ID is not in the seeds or any source read so far: a subject search.
  search('[PATCH mm-unstable] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd'),
  search('[PATCH mm-unstable v2] mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd'),
  search('[PATCH v3 1/9] mm: khugepaged: recheck pmd state in retract_page_tables()'),
  search('mm: pgtable: fix incorrect reclaim of non-empty PTE pages'),
  search("userfaultfd: don't BUG_ON() if khugepaged yanks our page table"),
  search('mm/mremap: fix move_normal_pmd/retract_page_tables race'),
  search('powerpc/pgtable-frag: Fix bad page state in pte_frag_destroy'),
];

/** The seed files (shared/seeds/NNN_*.txt) that are one message or one thread. */
const SEED_FILES: Readonly<Record<string, SeedMessage>> = {
  '000': {
    subject: '[07/12] s390: add pte_free_defer(), with use of mmdrop_async()',
    messageId: V1_07,
    source: SRC.v1s390,
  },
  '001': {
    subject: 'Re: [PATCH 07/12] s390: add pte_free_defer(), with use of mmdrop_async()',
    thread: V1_07,
    source: SRC.v1s390,
  },
  '002': {
    subject: 'Re: [PATCH v2 05/12] powerpc: add pte_free_defer() for pgtables sharing page',
    thread: V2_COVER,
    source: SRC.v2,
  },
  '003': {
    subject: 'x86: mm: free page table pages by RCU instead of semi RCU',
    messageId: X86_RCU,
    source: SRC.x86,
  },
};

/** A link a citation resolves to. */
export interface Citation {
  readonly subject: string;
  readonly url: string;
  /** `message`: the message by its Message-ID; `thread`: the thread it is in; `search`: a subject search. */
  readonly how: 'message' | 'thread' | 'search';
}

export function messageUrl(m: SeedMessage): Citation {
  if (m.messageId) return { subject: m.subject, url: `${LORE}/r/${m.messageId}/`, how: 'message' };
  if (m.thread) return { subject: m.subject, url: `${LORE}/r/${m.thread}/T/`, how: 'thread' };
  return {
    subject: m.subject,
    // encodeURIComponent leaves ' ( ) ! * as they are; a URL in an attribute or a story should not carry them.
    url: `${LORE}/all/?q=${encodeURIComponent(`s:"${m.subject}"`).replace(/['()!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    how: 'search',
  };
}

/** A quoted string in a citation that names a message: a subject, or the start of one ("[PATCH v2 12/23]"). */
function lookup(quote: string): SeedMessage | undefined {
  const q = quote.replace(/\s+/g, ' ').trim();
  const exact = SEED_MESSAGES.find((m) => m.subject === q);
  if (exact) return exact;
  if (!/^(\[|Re: )/.test(q)) return undefined;
  const starts = SEED_MESSAGES.filter((m) => m.subject.startsWith(`${q} `));
  return starts.length === 1 ? starts[0] : undefined;
}

/** Quoted strings of a citation that look like subjects (so the catalogue must know them). */
export function citedSubjects(seed: string): string[] {
  const out: string[] = [];
  for (const m of seed.matchAll(/(upstream |seeds\/\d{3}[^"]*)?"([^"]+)"/g)) {
    const q = (m[2] ?? '').trim();
    if (/^(\[(PATCH|\d)|Re: \[)/.test(q) || (m[1]?.startsWith('upstream') ?? false)) out.push(q);
  }
  return out;
}

/** The messages a seed citation names, as links, in the order cited. */
export function citations(seed: string): Citation[] {
  const out: Citation[] = [];
  const add = (m: SeedMessage | undefined) => {
    if (!m) return;
    const c = messageUrl(m);
    if (!out.some((x) => x.url === c.url && x.subject === c.subject)) out.push(c);
  };
  for (const m of seed.matchAll(/seeds\/(\d{3})(?:-(\d{3}))?|"([^"]+)"/g)) {
    if (m[3] !== undefined) add(lookup(m[3]));
    else {
      add(SEED_FILES[m[1] ?? '']);
      if (m[2])
        for (let n = Number(m[1]) + 1; n <= Number(m[2]); n++)
          add(SEED_FILES[String(n).padStart(3, '0')]);
    }
  }
  return out;
}

/** A citation as text, without paths to seed files that are in no package ("seeds/004: "). */
export function citationText(seed: string): string {
  return seed
    .replace(/;?\s*seeds\/\d{3}(?:-\d{3})?\s*(?::\s*)?(?=[;,)]|$)/g, '')
    .replace(/seeds\/\d{3}(?:-\d{3})?:?\s*/g, '')
    .replace(/\s\(\s*\)/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();
}
