// Stack traces for bug reports (HASHALL_DEBUG): frames in the bundled CLI rewritten to the TypeScript line they came from, by the source map built beside the bundle.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

/** A frame's location in a bundle: `/…/main.cjs:LINE:COL`, inside parentheses or after `at `. */
const BUNDLE_FRAME = /(?<=\(|at )(\/[^()\s]*\/main\.cjs):(\d+):(\d+)/g;

/**
 * `stack` with every frame in a bundle (dist/cli/main.cjs) pointing at its source instead (`src/apply/executor.ts:12:5`),
 * read from `main.cjs.map` beside it. Frames elsewhere, and every frame when the map is missing or unreadable, stay
 * as they are. Node 20 does not apply source maps to code compiled through vm.Script (the launcher's code cache).
 */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (bundle: string): SourceMap | null => {
    if (!maps.has(bundle)) {
      try {
        maps.set(bundle, new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8'))));
      } catch {
        maps.set(bundle, null);
      }
    }
    return maps.get(bundle) ?? null;
  };
  return stack.replace(BUNDLE_FRAME, (whole, bundle: string, line: string, col: string) => {
    const entry = mapOf(bundle)?.findEntry(Number(line) - 1, Number(col) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
    if (entry?.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return whole;
    // Sources are relative to the map (../../src/…, ../../node_modules/…): shown from the package root.
    const source = entry.originalSource.replace(/^(?:file:\/\/)?(?:\.\.\/)+/, '');
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
