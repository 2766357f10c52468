/**
 * Packed footprint entries (core's packFootprint()): object * 2 + write.
 * Objects can exceed 2^31, so these use arithmetic, not bit operations (nor
 * %, which is fmod on doubles).
 */

/** The object of a packed footprint entry. */
export const objOf = (e: number): number => Math.floor(e / 2);
/** Whether a packed footprint entry writes its object. */
export const writes = (e: number): boolean => e !== 2 * Math.floor(e / 2);
