// Every byte count users read comes from one formatter: apply's events, its summary and the plan agree (apply once printed 1024.0 KiB where plan printed 1.0 MiB).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../../src/apply/executor.js';
import { formatEvent, progressBar } from '../../../src/render/apply-text.js';
import { applySummary } from '../../../src/render/apply-summary.js';
import { formatBytes } from '../../../src/render/format-bytes.js';

const JUST_UNDER_1_MIB = 1024 * 1024 - 1;

describe('one byte formatter', () => {
  it('apply events, the progress bar and the apply summary print a byte count as the plan does', () => {
    expect(formatBytes(JUST_UNDER_1_MIB)).toBe('1.0 MiB');
    expect(formatEvent({ type: 'run-done', runId: 'r', status: 'succeeded', bytesCopied: JUST_UNDER_1_MIB, bytesFreed: 0, attention: [] })).toBe('apply r succeeded: 1.0 MiB copied, 0 B freed');
    const bar = progressBar({ type: 'copy-progress', runId: 'r', groupId: 'g', file: 'f', bytes: 1, totalBytes: 1, groupBytes: JUST_UNDER_1_MIB, groupTotal: JUST_UNDER_1_MIB });
    expect(bar).toContain('1.0 MiB / 1.0 MiB');
    const result: RunResult = { runId: 'r', status: 'succeeded', groups: [], bytesCopied: JUST_UNDER_1_MIB, bytesFreed: JUST_UNDER_1_MIB, attention: [], guardProblems: [], notes: [] };
    expect(applySummary(result, null)).toContain('1.0 MiB copied, 1.0 MiB freed');
  });

  it('src defines formatBytes once (domain/format-bytes.ts; render re-exports it)', () => {
    const root = path.resolve(import.meta.dirname, '../../../src');
    const defining = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => path.relative(root, path.join(d.parentPath, d.name)))
      .filter((f) => /\bfunction formatBytes\b|\bformatBytes\s*=\s*\(/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(defining).toEqual([path.join('domain', 'format-bytes.ts')]);
  });
});
