// blockOnIntegrity (pure): a group that would copy bad bytes, link to a bad donor, repoint onto a tree holding one, or
// retire a copy in favour of a kept tree holding one is blocked, with the damaged file named; other groups pass.
import { describe, expect, it } from 'vitest';
import { blockOnIntegrity } from '../../../src/plan/integrity.js';
import type { PlanGroup, PlanStep } from '../../../src/plan/types.js';

type Group = Omit<PlanGroup, 'id'>;

function group(action: PlanGroup['action'], steps: PlanStep[], files: string[] = []): Group {
  return {
    key: `k-${action}`,
    action,
    title: 't',
    payloadHash: 'p',
    torrents: [],
    from: null,
    to: null,
    reasons: ['planned'],
    rule: null,
    bytesToCopy: 10,
    bytesToFree: 10,
    steps,
    fingerprint: { files: files.map((path) => ({ path, ino: 1, size: 1, mtimeNs: '1' })), torrents: [] },
  };
}

const bad = [{ path: '/stash/seed/Film/film.mkv', kind: 'corrupted' as const }];
const copy = (fromRoot: string): PlanStep => ({ kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot, toRoot: '/pool/seed/Film', files: [{ relpath: 'film.mkv', size: 1, sha256: 'a' }], bytes: 1 });
const retire = (root: string, keptRoot: string): PlanStep => ({ kind: 'retire', fs: 'pool', root, payloadHash: 'p', keptRoot, keptFs: 'stash', relocationId: 1, bytes: 1 });
const linkView = (donor: string): PlanStep => ({ kind: 'link-view', fs: 'stash', torrentHash: 'h', root: '/stash/seed/X', links: [{ donor, path: '/stash/seed/X/film.mkv', size: 1, sha256: 'a' }] });

describe('blockOnIntegrity', () => {
  it('blocks a move that would copy the corrupted file, naming it and dropping the steps', () => {
    const [g] = blockOnIntegrity([group('move', [copy('/stash/seed/Film')])], bad);
    expect(g!.action).toBe('blocked');
    expect(g!.steps).toEqual([]);
    expect([g!.bytesToCopy, g!.bytesToFree]).toEqual([0, 0]);
    expect(g!.reasons[0]).toBe('would move with a damaged file: /stash/seed/Film/film.mkv is corrupted (same size and mtime as recorded, different bytes)');
    expect(g!.reasons[1]).toContain('hashall verify --repair');
    expect(g!.reasons.at(-1)).toBe('planned');
  });

  it('blocks a retire whose kept copy holds the corrupted file (never retire the good copy in favour of a bad one)', () => {
    const [g] = blockOnIntegrity([group('retire', [retire('/pool/seed/Film', '/stash/seed/Film')])], bad);
    expect(g!.action).toBe('blocked');
  });

  it('blocks a view linked to a corrupted donor, and a group whose fingerprint names it', () => {
    expect(blockOnIntegrity([group('reuse', [linkView('/stash/seed/Film/film.mkv')])], bad)[0]!.action).toBe('blocked');
    const repoint: PlanStep = { kind: 'repoint', client: 'qbt', torrentHash: 'h', torrentName: 'X', fromSavePath: '/data/a', toSavePath: '/data/b', expectedContentPath: '/data/b/X', hostFrom: '/stash/a/X', hostTo: '/pool/b/X', bytes: 1 };
    expect(blockOnIntegrity([group('reuse', [repoint], ['/stash/seed/Film/film.mkv'])], bad)[0]!.action).toBe('blocked');
  });

  it('leaves groups that touch no damaged file, and every group when there is no problem', () => {
    const fine = group('move', [copy('/stash/seed/Other')]);
    expect(blockOnIntegrity([fine], bad)).toEqual([fine]);
    const moving = group('move', [copy('/stash/seed/Film')]);
    expect(blockOnIntegrity([moving], [])).toEqual([moving]);
    // A sibling folder whose name merely starts like the bad file's folder is not under it.
    expect(blockOnIntegrity([group('move', [copy('/stash/seed/Fil')])], bad)[0]!.action).toBe('move');
  });
});
