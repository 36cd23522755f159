// A payload file changed on disk since the scan (same inode, other size or mtime) is unknown, never "none" (real files).
import { appendFileSync, lstatSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consumerVerdict, liveInode } from '../../../src/catalog/consumers.js';
import type { CatalogFile } from '../../../src/domain/snapshot.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hashall-changed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The catalog row the scanner would write for `p` right now. */
function scanned(p: string): CatalogFile {
  const st = lstatSync(p, { bigint: true });
  return { fsId: 1, path: p, ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), nlink: Number(st.nlink), sha256: 'a'.repeat(64) };
}

function verdict(f: CatalogFile) {
  return consumerVerdict({ fsId: 1, files: [f], linksOf: () => [f.path], seedingRoots: [dir], libraries: [], live: liveInode });
}

describe('changed since the scan', () => {
  it('an untouched file is none', () => {
    const p = path.join(dir, 'same.mkv');
    writeFileSync(p, 'x'.repeat(100));
    expect(verdict(scanned(p))).toEqual({ status: 'none', paths: [], reasons: [] });
  });

  it('a file appended to after the scan (same inode, new size) is unknown', () => {
    const p = path.join(dir, 'grown.mkv');
    writeFileSync(p, 'x'.repeat(100));
    const row = scanned(p);
    appendFileSync(p, 'more');
    const v = verdict(row);
    expect(v.status).toBe('unknown');
    expect(v.reasons.join('\n')).toMatch(/changed since the scan/);
  });

  it('a file rewritten in place with the same size (only mtime differs) is unknown', () => {
    const p = path.join(dir, 'rewritten.mkv');
    writeFileSync(p, 'x'.repeat(100));
    const row = scanned(p);
    writeFileSync(p, 'y'.repeat(100));
    utimesSync(p, new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2030, 0, 1)));
    expect(lstatSync(p).ino).toBe(row.ino);
    const v = verdict(row);
    expect(v.status).toBe('unknown');
    expect(v.reasons.join('\n')).toMatch(/changed since the scan/);
  });
});
