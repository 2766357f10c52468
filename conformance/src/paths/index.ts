/**
 * Every kernel path a scenario thread can name. One file per path; add a line
 * here to register a new one (keep the list sorted).
 */
import { collapseFile } from './collapse-file.js';
import { fault } from './fault.js';
import { gupFast } from './gup-fast.js';
import { rmapWalk } from './rmap-walk.js';
import type { PathDef } from './types.js';

export const PATHS: Readonly<Record<string, PathDef>> = {
  collapse_file: collapseFile,
  fault,
  gup_fast: gupFast,
  rmap_walk: rmapWalk,
};
