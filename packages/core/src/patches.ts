/**
 * Kernel patch ids that cross packages: a fix an arch port proposes, as its
 * variant, for generic mm code (which reads it with ctx.k.has(), or as the
 * arch's variant). conformance/src/findings.ts names them as fixes.
 */

/**
 * The proposed fix of the collapse-one-lock-no-recheck kernel finding
 * (docs/kernel-findings.md): collapse_pte_mapped_thp()'s step 4 rechecks the
 * pmd after pmd_lock() also when the ptl is the pmd lock.
 */
export const COLLAPSE_RECHECK_PMD_ONE_LOCK = 'collapse-recheck-pmd-one-lock';
