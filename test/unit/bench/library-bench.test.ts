// The library-scan benchmark still runs end to end (small): its initial scan and rescan of sparse files of distinct sizes catalog every file and hash none.
import { describe, expect, it } from 'vitest';
import { run } from '../../../bench/library-scan.js';

describe('bench/library-scan', () => {
  it('scans a small sparse library twice and reports ratios to find (it throws when the catalog is not every file, unhashed)', async () => {
    const out = await run({ files: 1500, repeat: 1 });
    expect(out.files).toBe(1500);
    for (const k of ['initialScanMs', 'findMs', 'initialVsFind', 'rescanMs', 'rescanVsFind', 'initialPeakMiB']) expect(Number.isFinite(out[k]) && out[k]! > 0).toBe(true);
  }, 120_000);
});
