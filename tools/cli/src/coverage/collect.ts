/**
 * The child-process side of `ptlab conformance --coverage`: node starts V8's
 * precise (block) coverage at start-up because the parent sets
 * NODE_V8_COVERAGE. When the child is done (its IPC channel closes) it writes
 * the counts and stops coverage, then writes the exact code V8 ran for each
 * script that may be kernel-model code (tsx's transform of a .ts file, or a
 * dist bundle), read through the inspector, with its source map's URL, so the
 * parent can map every block back to the TypeScript it came from.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { stopCoverage, takeCoverage } from 'node:v8';

/** Where the parent wants this child's coverage (set with NODE_V8_COVERAGE); absent: no coverage. */
export const COVERAGE_ENV = 'PTLAB_COVERAGE_DIR';

/** The code V8 ran for one script, as a child writes it (keyed by url). */
export interface ScriptSource {
  readonly url: string;
  /** The code V8 executed (offsets in the coverage counts are into it). */
  readonly source: string;
  /** As the script names it (`//# sourceMappingURL=`): relative to url, or a data: URL. */
  readonly sourceMapURL: string;
}

/** Scripts worth keeping: files, not node's own or third-party ones (except ptlab's packages). */
function mayBeModelCode(url: string): boolean {
  if (!url.startsWith('file://')) return false;
  if (url.includes('/node_modules/') && !url.includes('/node_modules/@ptlab/')) return false;
  return /\.[cm]?[jt]s$/.test(url);
}

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    s.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r as T))),
  );
}

/**
 * Write the code of every script that may be model code to
 * `$PTLAB_COVERAGE_DIR/sources-<pid>.json`; node writes the counts itself
 * (NODE_V8_COVERAGE, `coverage-<pid>-*.json`) when the process exits, right
 * after. Nothing when coverage is off.
 */
export async function writeChildCoverage(): Promise<void> {
  const dir = process.env[COVERAGE_ENV];
  if (!dir) return;
  // Write the counts now, and stop: enabling the debugger below drops V8's block counters
  // (every function would come out with its call count only, no branch reached but by name).
  takeCoverage();
  stopCoverage();
  const s = new Session();
  s.connect();
  try {
    const parsed: { scriptId: string; url: string; sourceMapURL: string }[] = [];
    s.on('Debugger.scriptParsed', (m) => {
      const p = m.params;
      if (mayBeModelCode(p.url))
        parsed.push({ scriptId: p.scriptId, url: p.url, sourceMapURL: p.sourceMapURL ?? '' });
    });
    // Enabling the debugger reports every script already parsed.
    await post(s, 'Debugger.enable');
    const out: ScriptSource[] = [];
    for (const p of parsed) {
      const { scriptSource } = await post<{ scriptSource: string }>(s, 'Debugger.getScriptSource', {
        scriptId: p.scriptId,
      });
      out.push({ url: p.url, source: scriptSource, sourceMapURL: p.sourceMapURL });
    }
    writeFileSync(join(dir, `sources-${process.pid}.json`), JSON.stringify(out));
  } finally {
    s.disconnect();
  }
}
