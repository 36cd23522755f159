// Unit tests for the test-support torrent builder: bencode round trips and info-hashes equal to mktorrent's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { bdecode, bencode, makeTorrent, type Bencoded } from '../../../src/sandbox/torrent-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hashall-tf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Info-hash of a .torrent made by mktorrent, from its decoded and re-encoded info dictionary. */
function infoHashOf(file: string): string {
  const info = (bdecode(readFileSync(file)) as Map<string, Bencoded>).get('info');
  if (info === undefined) throw new Error(`${file} has no info dictionary`);
  return createHash('sha1').update(bencode(info)).digest('hex');
}

describe('bencode', () => {
  test('round trip keeps bytes identical and sorts keys as bytes', () => {
    const v = new Map<string, Bencoded>([['b', 1], ['a', [Buffer.from('x'), -3]], ['é', new Map()]]);
    const enc = bencode(v);
    expect(enc.toString('latin1')).toBe('d1:al1:xi-3ee1:bi1e2:\u00c3\u00a9dee');
    expect(bencode(bdecode(enc))).toEqual(enc);
  });

  test.each(['i12', 'd1:a', '5:ab', 'i1x', 'i1ee'])('rejects malformed input %j', (bad) => {
    expect(() => bdecode(Buffer.from(bad))).toThrow(/bdecode/);
  });
});

describe('makeTorrent', () => {
  test('single-file info-hash equals mktorrent on the same data and piece size', () => {
    const t = makeTorrent({ saveDir: path.join(dir, 's'), name: 'one.bin', files: [{ size: 70_001 }], pieceLength: 32 * 1024 });
    const out = path.join(dir, 's.torrent');
    execFileSync('mktorrent', ['-l', '15', '-o', out, t.contentPath], { stdio: 'ignore' });
    expect(t.infoHash).toBe(infoHashOf(out));
  });

  test('multi-file info-hash equals mktorrent (files in sorted order)', () => {
    const t = makeTorrent({
      saveDir: path.join(dir, 'm'),
      name: 'Root Dir',
      files: [{ path: 'a.bin', size: 40_000 }, { path: 'b/c.txt', content: 'hi\n' }, { path: 'b/d.bin', size: 0 }, { path: 'z.bin', size: 33_333 }],
      pieceLength: 64 * 1024,
      private: true,
    });
    const out = path.join(dir, 'm.torrent');
    execFileSync('mktorrent', ['-p', '-l', '16', '-o', out, t.contentPath], { stdio: 'ignore' });
    expect(t.infoHash).toBe(infoHashOf(out));
  });

  test('refuses a tracker that is not a loopback IP literal', () => {
    expect(() => makeTorrent({ saveDir: path.join(dir, 't'), name: 'x', files: [{ size: 1 }], trackers: ['http://tracker.example/announce'] })).toThrow(/loopback/);
  });
});
