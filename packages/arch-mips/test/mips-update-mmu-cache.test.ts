import {
  BugFound,
  type Ctx,
  Kernel,
  type Mm,
  pmdLock,
  pmdOffset,
  pmdSize,
  pteAlloc,
  pteOffsetMapLock,
  pteUnmapUnlock,
  runToEnd,
  setPmdHuge,
  setPteAt,
  spinUnlock,
  tlbLookup,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { MIPS_UPDATE_TLB_UNBALANCED, MIPS32_XPA, MIPS64, mips, updateTlb } from '../src/index.js';

function setup(configId: string, variant?: string) {
  const config = [MIPS64, MIPS32_XPA].find((c) => c.id === configId);
  if (!config) throw new Error(configId);
  const k = new Kernel({ arch: mips.create(config, variant) });
  const mm: Mm = k.createMm('A');
  const ctx: Ctx = k.boot;
  ctx.cpu.mm = mm;
  const PMD_SIZE = pmdSize(ctx);
  const vma = new Vma(
    mm,
    PMD_SIZE,
    2 * PMD_SIZE,
    { shared: true, uffdMissing: false, uffdWp: false },
    null,
    0,
  );
  mm.vmas.push(vma);
  return { k, mm, ctx, vma, PMD_SIZE };
}

/** finish_fault()'s part: install a PTE under the ptl, call update_mmu_cache() with that ptep. */
function faultIn(k: Kernel, ctx: Ctx, mm: Mm, vma: Vma, addr: number, pfn: number) {
  const pmdp = pmdOffset(ctx, mm, addr);
  expect(runToEnd(pteAlloc(ctx, mm, pmdp))).toBe(0);
  const m = runToEnd(pteOffsetMapLock(ctx, mm, pmdp, addr));
  if (!m) throw new Error('no table');
  runToEnd(setPteAt(ctx, mm, m.pte, k.arch.mkPte(pfn, { write: true })));
  const hook = k.arch.updateMmuCache;
  if (!hook) throw new Error('mips has update_mmu_cache()');
  expect(ctx.cpu.rcuNesting).toBe(1);
  runToEnd(hook.call(k.arch, ctx, vma, addr, m.pte));
  const nestingAfterHook = ctx.cpu.rcuNesting;
  runToEnd(pteUnmapUnlock(ctx, m.pte, m.ptl));
  return nestingAfterHook;
}

describe('mips update_mmu_cache() → __update_tlb()', () => {
  for (const configId of [MIPS64.id, MIPS32_XPA.id]) {
    it(`${configId}: preloads the TLB with the new PTE and leaves RCU as it found it`, () => {
      const { k, mm, ctx, vma, PMD_SIZE } = setup(configId);
      const addr = PMD_SIZE + 3 * 4096;
      const pfn = 2 ** 30 + 3;
      expect(faultIn(k, ctx, mm, vma, addr, pfn)).toBe(1);
      expect(ctx.cpu.rcuNesting).toBe(0);
      expect(ctx.cpu.irqOff).toBe(0);
      expect(tlbLookup(ctx, mm, addr)?.pfn).toBe(pfn);
      // The even buddy (addr & (PAGE_MASK << 1)) is empty: nothing cached for it.
      expect(tlbLookup(ctx, mm, addr - 4096)).toBeNull();
    });

    it(`${configId}: without the pte_unmap() (${MIPS_UPDATE_TLB_UNBALANCED}) an rcu_read_lock() is left held`, () => {
      const { k, mm, ctx, vma, PMD_SIZE } = setup(configId, MIPS_UPDATE_TLB_UNBALANCED);
      expect(faultIn(k, ctx, mm, vma, PMD_SIZE, 2 ** 30)).toBe(2);
      expect(ctx.cpu.rcuNesting).toBe(1);
    });
  }

  it('does nothing for another mm (a debugger faulting in for its debuggee)', () => {
    const { k, mm, ctx, vma, PMD_SIZE } = setup(MIPS64.id);
    ctx.cpu.mm = null;
    faultIn(k, ctx, mm, vma, PMD_SIZE, 77);
    expect(tlbLookup(ctx, mm, PMD_SIZE)).toBeNull();
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it('mips64: a huge pmd is loaded from the pmd, with no pte_offset_map()', () => {
    const { mm, ctx, vma, PMD_SIZE } = setup(MIPS64.id);
    const pmdp = pmdOffset(ctx, mm, PMD_SIZE);
    const pml = runToEnd(pmdLock(ctx, mm, pmdp));
    runToEnd(setPmdHuge(ctx, mm, pmdp, 2 ** 31));
    runToEnd(spinUnlock(ctx, pml));
    runToEnd(updateTlb(ctx, vma, PMD_SIZE + 5 * 4096, true));
    expect(tlbLookup(ctx, mm, PMD_SIZE + 5 * 4096)?.pfn).toBe(2 ** 31 + 5);
    expect(ctx.cpu.rcuNesting).toBe(0);
  });

  it("mips64: update_mmu_cache_pmd() (do_set_pmd()'s, under the pmd lock) loads the huge pmd whole", () => {
    const { k, mm, ctx, vma, PMD_SIZE } = setup(MIPS64.id);
    const pmdp = pmdOffset(ctx, mm, PMD_SIZE);
    const pml = runToEnd(pmdLock(ctx, mm, pmdp));
    runToEnd(setPmdHuge(ctx, mm, pmdp, 2 ** 31));
    const hook = k.arch.updateMmuCachePmd;
    if (!hook) throw new Error('mips has update_mmu_cache_pmd()');
    runToEnd(hook.call(k.arch, ctx, vma, PMD_SIZE, pmdp));
    runToEnd(spinUnlock(ctx, pml));
    // One huge entry for the whole PMD: any page of it translates.
    expect(tlbLookup(ctx, mm, PMD_SIZE)?.pfn).toBe(2 ** 31);
    expect(tlbLookup(ctx, mm, PMD_SIZE + 300 * 4096)?.pfn).toBe(2 ** 31 + 300);
    expect(ctx.cpu.rcuNesting).toBe(0);
    expect(ctx.cpu.irqOff).toBe(0);
  });

  it('a pte_offset_map() failure inside it (no table) would be a NULL dereference', () => {
    const { mm, ctx, vma, PMD_SIZE } = setup(MIPS64.id);
    let fired: BugFound | null = null;
    try {
      runToEnd(updateTlb(ctx, vma, PMD_SIZE, true));
    } catch (e) {
      if (!(e instanceof BugFound)) throw e;
      fired = e;
    }
    expect(fired?.check).toBe('use-after-free');
    expect(fired?.message).toMatch(/NULL pointer dereference/);
    void mm;
  });
});
