/**
 * do_set_pmd() (src/fault.ts, mm/memory.c v6.6) ends with
 * update_mmu_cache_pmd(vma, haddr, vmf->pmd) while the pmd lock is still
 * held: the arch hook (mips: __update_tlb()) sees the huge pmd just set.
 */
import {
  type Ctx,
  GenericArch,
  Kernel,
  type KGen,
  type PmdPtr,
  pmdLockptr,
  pmdOffset,
  pmdpGet,
  runToEnd,
  Vma,
} from '@ptlab/core';
import { describe, expect, it } from 'vitest';
import { doSetPmd, handleUserFault } from '../src/index.js';
import { CONFIG, PMD, run } from './helpers.js';

interface Seen {
  addr: number;
  huge: boolean;
  pmlHeld: boolean;
}

/** GenericArch with an update_mmu_cache_pmd() that records what it was called with. */
class RecordingArch extends GenericArch {
  readonly seen: Seen[] = [];
  *updateMmuCachePmd(ctx: Ctx, vma: Vma, addr: number, pmdp: PmdPtr): KGen {
    const pmd = yield* pmdpGet(ctx, pmdp);
    const pml = pmdLockptr(ctx, vma.mm, pmdp);
    this.seen.push({
      addr,
      huge: this.pmdTransHuge(pmd.raw),
      pmlHeld: ctx.cpu.held.some((h) => h.lock === pml),
    });
  }
}

function world() {
  const arch = new RecordingArch(CONFIG);
  const k = new Kernel({ arch });
  const file = k.createFile('shm', true);
  const thp = k.createFolio('THP', Math.log2(CONFIG.PTRS_PER_PTE), file, 0);
  const mm = k.createMm('A');
  const vma = new Vma(
    mm,
    PMD,
    2 * PMD,
    { shared: true, uffdMissing: false, uffdWp: false },
    file,
    0,
  );
  mm.vmas.push(vma);
  file.iMmap.push(vma);
  return { k, arch, mm, vma, thp };
}

describe('do_set_pmd() → update_mmu_cache_pmd()', () => {
  it('a read fault that maps the page-cache THP by a huge pmd calls it with haddr, the huge pmd, under the pmd lock', () => {
    const { k, arch, mm } = world();
    k.spawn('fault', (ctx) => handleUserFault(ctx, mm, PMD + 5 * CONFIG.PAGE_SIZE, false), { mm });
    expect(run(k, [], { teardown: false }).finding).toBeNull();
    expect(k.arch.pmdTransHuge(runToEnd(pmdpGet(k.boot, pmdOffset(k.boot, mm, PMD))).raw)).toBe(
      true,
    );
    expect(arch.seen).toEqual([{ addr: PMD, huge: true, pmlHeld: true }]);
    expect(run(k).finding).toBeNull();
  });

  it('is not called when the pmd is no longer none (VM_FAULT_FALLBACK)', () => {
    const { k, arch, mm, vma, thp } = world();
    const pmdp = pmdOffset(k.boot, mm, PMD);
    expect(runToEnd(doSetPmd(k.boot, vma, PMD, pmdp, thp))).toBe(0);
    expect(runToEnd(doSetPmd(k.boot, vma, PMD, pmdp, thp))).toBe('VM_FAULT_FALLBACK');
    expect(arch.seen).toHaveLength(1);
  });
});
