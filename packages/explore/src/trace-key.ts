/**
 * The Mazurkiewicz trace of an execution as a key: for each object, the
 * order of its writes and, for each read, how many writes came before it
 * (by thread and the step's index in its thread). Swapping two adjacent
 * steps whose footprints do not conflict leaves it unchanged, so two
 * executions with different keys are not equivalent under the search's own
 * dependency relation. Tests compare the traces two searches cover with it.
 */
import type { Event } from './dpor.js';
import { objOf, writes } from './packed.js';

export function traceKey(events: readonly Pick<Event, 'tid' | 'fp'>[]): string {
  const local: number[] = [];
  const objs = new Map<number, { writes: number; order: string[]; reads: string[] }>();
  for (const ev of events) {
    const idx = (local[ev.tid] ?? 0) + 1;
    local[ev.tid] = idx;
    for (const e of ev.fp) {
      const o = objOf(e);
      let h = objs.get(o);
      if (!h) {
        h = { writes: 0, order: [], reads: [] };
        objs.set(o, h);
      }
      if (writes(e)) {
        h.order.push(`${ev.tid}.${idx}`);
        h.writes++;
      } else h.reads.push(`${ev.tid}.${idx}@${h.writes}`);
    }
  }
  return [...objs.keys()]
    .sort((a, b) => a - b)
    .map((o) => {
      const h = objs.get(o) as { order: string[]; reads: string[] };
      return `${o}:${h.order.join(',')}|${h.reads.sort().join(',')}`;
    })
    .join(';');
}
