/**
 * sparc64's own page-table walk in the fault path — arch/sparc/mm/fault_64.c:
 * do_sparc64_fault() takes mmap_lock, finds the vma and, for a pure DTLB miss
 * on a VM_WRITE vma (the trap does not say load or store), reads the faulting
 * instruction with get_fault_insn() → get_user_insn(), which walks the user
 * page tables with interrupts disabled. Since v6.6 khugepaged retracts tables
 * without mmap_lock, so the pmd can be cleared between the walk's check and its
 * pte_offset_map(): "[PATCH v2 19/23] sparc: allow pte_offset_map() to fail".
 *
 * The model takes every vma to be VM_WRITE and the faulting instruction to be
 * in the page being faulted on (tpc == address: a JIT writing its own code in
 * a shared mapping); the instruction word itself is not modelled.
 */
import {
  bug,
  type Ctx,
  type KGen,
  type LazyEvent,
  localIrqRestore,
  localIrqSave,
  type Mm,
  type PmdVal,
  pmdOffset,
  pmdpGet,
  pteOffsetMap,
  ptepGet,
  pteUnmap,
} from '@ptlab/core';

/**
 * get_user_insn() — arch/sparc/mm/fault_64.c. `mayFail` is the v6.5 fix:
 * "ptep = pte_offset_map(pmdp, tpc); if (!ptep) goto again;". Without it the
 * NULL is dereferenced. Returns whether an instruction was read.
 */
export function* getUserInsn(ctx: Ctx, mm: Mm, tpc: number, mayFail: boolean): KGen<boolean> {
  const a = ctx.k.arch;
  // "This disables preemption for us as well."
  yield* localIrqSave(ctx);
  const pmdp = pmdOffset(ctx, mm, tpc);
  let read = false;
  for (;;) {
    // again: if (pmd_none(*pmdp) || unlikely(pmd_bad(*pmdp))) goto out_irq_enable;
    const checked: PmdVal = yield* pmdpGet(ctx, pmdp);
    if (a.pmdNone(checked.raw) || a.pmdBad(checked.raw)) break;
    const checkedAt = ctx.here('get_user_insn(): pmd_none(*pmdp) check');
    // is_hugetlb_pmd(*pmdp): lduwa from the huge page's physical address.
    if (a.pmdTransHuge((yield* pmdpGet(ctx, pmdp)).raw)) {
      read = true;
      break;
    }
    const ptep = yield* pteOffsetMap(ctx, pmdp, tpc);
    if (!ptep) {
      if (!mayFail) nullPteDeref(ctx, checked, checkedAt);
      continue;
    }
    // pte = *ptep; if (pte_present(pte)) lduwa from its physical address.
    const pte = yield* ptepGet(ctx, ptep, 'pte = *ptep');
    read = a.ptePresent(pte);
    yield* pteUnmap(ctx, ptep);
    break;
  }
  yield* localIrqRestore(ctx);
  return read;
}

/**
 * `pte = *ptep` with ptep == NULL: the kernel oopses. Reported as a
 * use-after-free of the table the walk checked, naming what took it away.
 */
function nullPteDeref(ctx: Ctx, checked: PmdVal, checkedAt: LazyEvent): never {
  const t = checked.table ? ctx.k.pt.get(checked.table.pa) : undefined;
  const label = checked.table?.label ?? 'its table';
  let gone = 'the pmd no longer points to a page table';
  const related: LazyEvent[] = [checkedAt];
  if (t && t.gen === checked.table?.gen) {
    if (t.state === 'free' && t.freedAt) {
      gone = `${label} was freed at step ${t.freedAt.step} by ${t.freedAt.cpu} ${t.freedAt.fn}`;
      related.push(t.freedAt);
    } else if (t.deferredAt) {
      gone = `${label} was retracted (pte_free_defer at step ${t.deferredAt.step} by ${t.deferredAt.cpu})`;
      related.push(t.deferredAt);
    } else if (t.linkedFrom === null) {
      gone = `${label} was detached from the pmd (retract_page_tables() runs without mmap_lock)`;
    }
  }
  bug(
    'use-after-free',
    `${ctx.cpu.name} ${ctx.fn}: NULL pointer dereference: pte_offset_map() returned NULL and get_user_insn() reads *ptep as if pte_offset_map() could not fail; its pmd check at step ${checkedAt.step} saw ${label}, but ${gone} (fix: "sparc: allow pte_offset_map() to fail")`,
    related,
  );
}
