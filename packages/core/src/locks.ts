import { bug } from './checks.js';
import type { Ctx } from './context.js';
import type { Cpu, HeldLock } from './cpu.js';
import { type FootprintEntry, type ObjId, pageLifeObj, ptlObj, rd, releaseObj } from './deps.js';
import type { KGen, Leaf } from './step.js';

/**
 * Lock classes as lockdep sees them. Split PTE and PMD ptlocks share one class
 * (both come from ptlock_init()), which is why khugepaged must say
 * spin_lock_nested(ptl, SINGLE_DEPTH_NESTING) while holding pml.
 */
export type LockClass =
  | 'ptlock'
  | 'page_table_lock'
  | 'mmap_lock'
  | 'i_mmap_rwsem'
  | 'folio_lock'
  | 'arch_context_lock'
  | 'test';

export const SINGLE_DEPTH_NESTING = 1;

/** spinlock_t */
export class SpinLock {
  readonly kind = 'spin' as const;
  readonly id: string;
  readonly cls: LockClass;
  /** For a ptlock embedded in a ptdesc: the page and its generation, so locking a freed table is caught. */
  readonly page: { readonly pfn: number; readonly gen: number } | null;
  /** Its dependency object: for a ptlock, derived from the page it lives in. */
  readonly obj: ObjId;
  /** Written by spin_unlock(); spin_lock() waits on it (deps.ts releaseObj). */
  readonly releaseObj: ObjId;
  owner: Cpu | null = null;
  /**
   * `where`: the struct page a split ptlock lives in (ptdesc->ptl), or the
   * dependency object of the structure that holds the lock (deps.ts, e.g.
   * mmObj(mm.index, MmSub.pageTableLock), mmContextObj(mm.index, n)).
   */
  constructor(id: string, cls: LockClass, where: { pfn: number; gen: number } | ObjId) {
    this.id = id;
    this.cls = cls;
    if (typeof where === 'number') {
      this.page = null;
      this.obj = where;
    } else {
      this.page = where;
      this.obj = ptlObj(where.pfn);
    }
    this.releaseObj = releaseObj(this.obj, 0);
  }
}

/** What taking or releasing `lock` touches: the lock, and (reading) the struct page it lives in. */
/** A ptlock's memory must be alive (checkLockMemory): its page's life, not the rest of the page. */
function lockFootprint(lock: SpinLock): ObjId | ObjId[] {
  return lock.page ? [lock.obj, rd(pageLifeObj(lock.page.pfn))] : lock.obj;
}

/** A ptlock lives in its table's struct page: taking it after the page was freed is a use after free. */
function checkLockMemory(ctx: Ctx, lock: SpinLock): void {
  if (!lock.page) return;
  const m = ctx.k.pages.raw(lock.page.pfn);
  if (!m.allocated || m.gen !== lock.page.gen) {
    bug(
      'use-after-free',
      `${ctx.cpu.name} ${ctx.fn}: spin_lock(${lock.id}): the page table holding this ptlock was freed at step ${m.freedAt?.step ?? '?'} by ${m.freedAt?.cpu ?? '?'} ${m.freedAt?.fn ?? ''}`,
      m.freedAt ? [m.freedAt] : [],
    );
  }
}

/** rw_semaphore (mmap_lock, i_mmap_rwsem) or a sleeping bit lock (folio lock) when `exclusiveOnly`. */
export class SleepingLock {
  readonly kind = 'sleep' as const;
  readonly id: string;
  readonly cls: LockClass;
  /** Its dependency object (deps.ts), also covering the data it protects where the model says so. */
  readonly obj: ObjId;
  readonly readers = new Set<Cpu>();
  writer: Cpu | null = null;
  constructor(id: string, cls: LockClass, obj: ObjId) {
    this.id = id;
    this.cls = cls;
    this.obj = obj;
  }
  /** What down_write() waits on: the last writer's release and every reader's (deps.ts releaseObj). */
  writerWait(cpus: readonly Cpu[]): FootprintEntry[] {
    const w: FootprintEntry[] = [rd(releaseObj(this.obj, 0))];
    for (const c of cpus) w.push(rd(releaseObj(this.obj, 2 + c.id)));
    return w;
  }
}

export type AnyLock = SpinLock | SleepingLock;

/**
 * A lockdep-like order graph over (class, subclass) keys, per simulated boot.
 * It fires on an inversion seen within one execution; unlike lockdep it does not
 * remember orders across executions (each schedule boots a fresh kernel).
 *
 * Its graph is not a dependency object: the edges a thread adds depend only on
 * what that thread holds, so executions that differ only in the order of
 * independent steps add the same edges and reach the same verdict.
 */
const CLASS_INDEX: Record<LockClass, number> = {
  ptlock: 0,
  page_table_lock: 1,
  mmap_lock: 2,
  i_mmap_rwsem: 3,
  folio_lock: 4,
  arch_context_lock: 5,
  test: 6,
};
const CLASS_NAMES = Object.keys(CLASS_INDEX) as LockClass[];
/** A (class, subclass) key as a number: taken on every acquisition, so no strings. */
const SUBCLASSES = 1 << 12;
const keyOf = (cls: LockClass, subclass: number): number =>
  CLASS_INDEX[cls] * SUBCLASSES + subclass;
/** An edge as one number: keys are below 7 * 2^12 < 2^15, so this stays a small integer (a double key would be boxed). */
const edgeKey = (from: number, to: number): number => from * 2 ** 15 + to;
const keyName = (k: number): string =>
  `${CLASS_NAMES[Math.floor(k / SUBCLASSES)]}/${k % SUBCLASSES}`;

export class Lockdep {
  /** key -> keys taken while holding it. */
  private readonly edges = new Map<number, number[]>();
  /** Edge (edgeKey()) -> where it was first seen. */
  private readonly firstSeen = new Map<number, string>();
  /**
   * The search's scratch: a stack and the keys seen, each used up to a count
   * (the graph has a handful of keys, so a linear scan beats a Set, and
   * neither a Set's clear() nor an array's length is paid on every search).
   */
  private readonly stack: number[] = [];
  private readonly seen: number[] = [];

  acquire(cpu: Cpu, lock: AnyLock, subclass: number, fn: string): void {
    const key = keyOf(lock.cls, subclass);
    for (const h of cpu.held) {
      const hkey = keyOf(h.lock.cls, h.subclass);
      if (hkey === key) {
        bug(
          'lock-order',
          `${cpu.name} ${fn}: takes ${lock.id} (class ${lock.cls}) while holding ${h.lock.id} of the same class without a nesting annotation (possible recursive locking)`,
        );
      }
      if (this.reaches(key, hkey)) {
        bug(
          'lock-order',
          `${cpu.name} ${fn}: takes ${keyName(key)} while holding ${keyName(hkey)}, but ${keyName(key)} -> ${keyName(hkey)} was established earlier (${this.firstSeen.get(edgeKey(key, this.nextHop(key, hkey))) ?? 'earlier'}): possible circular locking`,
        );
      }
      let out = this.edges.get(hkey);
      if (!out) {
        out = [];
        this.edges.set(hkey, out);
      }
      if (!out.includes(key)) {
        out.push(key);
        this.firstSeen.set(edgeKey(hkey, key), `${cpu.name} ${fn}`);
      }
    }
  }

  private nextHop(from: number, to: number): number {
    for (const n of this.edges.get(from) ?? []) if (n === to || this.reaches(n, to)) return n;
    return to;
  }

  private reaches(from: number, to: number): boolean {
    if (this.edges.size === 0) return from === to;
    const seen = this.seen;
    const stack = this.stack;
    let nSeen = 0;
    let top = 0;
    stack[top++] = from;
    search: while (top > 0) {
      const n = stack[--top] as number;
      if (n === to) return true;
      for (let i = 0; i < nSeen; i++) if (seen[i] === n) continue search;
      seen[nSeen++] = n;
      const out = this.edges.get(n);
      if (out) for (let i = 0; i < out.length; i++) stack[top++] = out[i] as number;
    }
    return false;
  }
}

function release(cpu: Cpu, lock: AnyLock, fn: string): void {
  // Locks are mostly released innermost first: search from the top, and close the gap by hand
  // (splice() would allocate the array of what it removes, on every unlock).
  const held = cpu.held;
  let i = held.length - 1;
  while (i >= 0 && (held[i] as HeldLock).lock !== lock) i--;
  if (i < 0) bug('context-leak', `${cpu.name} ${fn}: releases ${lock.id}, which it does not hold`);
  for (; i < held.length - 1; i++) held[i] = held[i + 1] as HeldLock;
  held.pop(); // inlined, where setting length is a runtime call
}

/** spin_lock() / spin_lock_nested() — include/linux/spinlock.h */
export function spinLock(ctx: Ctx, lock: SpinLock, subclass = 0): Leaf {
  return ctx.leaf(
    () => `spin_lock(${lock.id})`,
    lockFootprint(lock),
    'w',
    () => spinLockTaken(ctx, lock, subclass),
    () => lock.owner === null || lock.owner === ctx.cpu,
    rd(lock.releaseObj),
  );
}

function spinLockTaken(ctx: Ctx, lock: SpinLock, subclass: number): void {
  checkLockMemory(ctx, lock);
  if (lock.owner === ctx.cpu) {
    bug(
      'deadlock',
      `${ctx.cpu.name} ${ctx.fn}: takes ${lock.id}, which it already holds (AA deadlock)`,
    );
  }
  ctx.k.lockdep.acquire(ctx.cpu, lock, subclass, ctx.fn);
  lock.owner = ctx.cpu;
  ctx.cpu.held.push({ lock, subclass, mode: 'excl' });
}

/** spin_trylock() — include/linux/spinlock.h */
export function* spinTrylock(ctx: Ctx, lock: SpinLock): KGen<boolean> {
  // Unlike spin_lock(), its outcome reads the release side: it races with spin_unlock().
  yield ctx.step(
    () => `spin_trylock(${lock.id})`,
    [...[lockFootprint(lock)].flat(), rd(lock.releaseObj)],
  );
  checkLockMemory(ctx, lock);
  if (lock.owner !== null) return false;
  // lockdep validate_chain(): a trylock "does not add new dependencies, because trylock can be
  // done in any order"; it is only put on the held stack (locks taken under it are ordered after it).
  lock.owner = ctx.cpu;
  ctx.cpu.held.push({ lock, subclass: 0, mode: 'excl' });
  return true;
}

/** spin_unlock() — include/linux/spinlock.h */
export function spinUnlock(ctx: Ctx, lock: SpinLock): Leaf {
  return ctx.leaf(
    () => `spin_unlock(${lock.id})`,
    lock.releaseObj,
    'w',
    () => spinUnlocked(ctx, lock),
  );
}

function spinUnlocked(ctx: Ctx, lock: SpinLock): void {
  if (lock.owner !== ctx.cpu) {
    bug(
      'context-leak',
      `${ctx.cpu.name} ${ctx.fn}: unlocks ${lock.id}, held by ${lock.owner?.name ?? 'nobody'}`,
    );
  }
  lock.owner = null;
  release(ctx.cpu, lock, ctx.fn);
}

/** down_read() — kernel/locking/rwsem.c; i_mmap_lock_read(), mmap_read_lock() */
export function downRead(ctx: Ctx, lock: SleepingLock): Leaf {
  ctx.mightSleep(`down_read(${lock.id})`);
  // Readers commute with readers (adding to the reader set is order-free) and conflict with writers.
  return ctx.leaf(
    () => `down_read(${lock.id})`,
    lock.obj,
    'r',
    () => readLocked(ctx, lock),
    () => lock.writer === null,
    rd(releaseObj(lock.obj, 0)),
  );
}

function readLocked(ctx: Ctx, lock: SleepingLock): void {
  ctx.k.lockdep.acquire(ctx.cpu, lock, 0, ctx.fn);
  lock.readers.add(ctx.cpu);
  ctx.cpu.held.push({ lock, subclass: 0, mode: 'shared' });
}

/** up_read() — kernel/locking/rwsem.c */
export function upRead(ctx: Ctx, lock: SleepingLock): Leaf {
  return ctx.leaf(
    () => `up_read(${lock.id})`,
    releaseObj(lock.obj, 2 + ctx.cpu.id),
    'w',
    () => readUnlocked(ctx, lock),
  );
}

function readUnlocked(ctx: Ctx, lock: SleepingLock): void {
  if (!lock.readers.delete(ctx.cpu))
    bug('context-leak', `${ctx.cpu.name} ${ctx.fn}: up_read(${lock.id}) not held`);
  release(ctx.cpu, lock, ctx.fn);
}

/** down_write() / folio_lock() — kernel/locking/rwsem.c, mm/filemap.c */
export function downWrite(ctx: Ctx, lock: SleepingLock): Leaf {
  ctx.mightSleep(`lock ${lock.id}`);
  return ctx.leaf(
    () => `lock(${lock.id})`,
    lock.obj,
    'w',
    () => writeLocked(ctx, lock),
    () => lock.writer === ctx.cpu || (lock.writer === null && lock.readers.size === 0),
    () => lock.writerWait(ctx.k.cpus),
  );
}

function writeLocked(ctx: Ctx, lock: SleepingLock): void {
  if (lock.writer === ctx.cpu) bug('deadlock', `${ctx.cpu.name} ${ctx.fn}: takes ${lock.id} twice`);
  ctx.k.lockdep.acquire(ctx.cpu, lock, 0, ctx.fn);
  lock.writer = ctx.cpu;
  ctx.cpu.held.push({ lock, subclass: 0, mode: 'excl' });
}

/** up_write() / folio_unlock() */
export function upWrite(ctx: Ctx, lock: SleepingLock): Leaf {
  return ctx.leaf(
    () => `unlock(${lock.id})`,
    releaseObj(lock.obj, 0),
    'w',
    () => writeUnlocked(ctx, lock),
  );
}

function writeUnlocked(ctx: Ctx, lock: SleepingLock): void {
  if (lock.writer !== ctx.cpu)
    bug('context-leak', `${ctx.cpu.name} ${ctx.fn}: unlocks ${lock.id} it does not hold`);
  lock.writer = null;
  release(ctx.cpu, lock, ctx.fn);
}

/** Hand a held sleeping lock to the simulation before tasks start (e.g. the new folio locked by collapse_file). */
export function lockHeldBy(lock: SleepingLock, cpu: Cpu): void {
  lock.writer = cpu;
  cpu.held.push({ lock, subclass: 0, mode: 'excl' });
}
