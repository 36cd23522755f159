// Test support for config tests: writes config text into a fresh temp directory and checks it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { checkConfig } from '../../../src/config/load.js';
import type { ConfigProblem } from '../../../src/errors.js';

// Directories made for the importing test file; removed when that file's tests are done.
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'hashall-cfg-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
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
