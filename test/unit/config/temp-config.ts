// Test support for config tests: writes config text into a fresh temp directory and checks it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfig } from '../../../src/config/load.js';
import type { ConfigProblem } from '../../../src/errors.js';

export function tempDir(prefix = 'hashall-cfg-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `text` as `<tmp>/hashall.yaml` and runs every check; env defaults to a fixed HOME only. */
export function checkText(text: string, env: Record<string, string | undefined> = {}, dir = tempDir()) {
  const file = path.join(dir, 'hashall.yaml');
  writeFileSync(file, text);
  const result = checkConfig(file, { env: { HOME: '/home/tester', ...env }, cwd: dir });
  return { ...result, file, dir, errors: result.problems.filter((p) => p.severity === 'error'), warnings: result.problems.filter((p) => p.severity === 'warning') };
}

/** Compact `line:col path message` views for exact assertions. */
export function brief(problems: ConfigProblem[]): string[] {
  return problems.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`);
}
