// The tracker identity: the host of a torrent's first real tracker in tier order (src/domain/tracker.ts).
import { describe, expect, test } from 'vitest';
import { trackerHost, trackerIdentity } from '../../../src/domain/tracker.js';

const PK = '0123456789abcdef0123456789abcdef';
const FIRST = `https://Tracker.Example.org:443/${PK}/announce`;
const BACKUP = `udp://backup.example.net:6969/announce?passkey=${PK}`;

describe('trackerIdentity', () => {
  test('the first tracker in tier order, as a lower-case host without port, path or passkey', () => {
    expect(trackerIdentity([{ url: FIRST }, { url: BACKUP }])).toBe('tracker.example.org');
    expect(trackerIdentity([{ url: BACKUP, tier: 1 }, { url: FIRST, tier: 0 }])).toBe('tracker.example.org');
    // Same tier: the listed order decides.
    expect(trackerIdentity([{ url: BACKUP, tier: 0 }, { url: FIRST, tier: 0 }])).toBe('backup.example.net');
  });

  test("skips qBittorrent's DHT/PeX/LSD pseudo-entries and entries without a host; null when none is left", () => {
    const pseudo = ['** [DHT] **', '** [PeX] **', '** [LSD] **'].map((url) => ({ url, tier: -1 }));
    expect(trackerIdentity([...pseudo, { url: 'not a url', tier: 0 }, { url: BACKUP, tier: 1 }])).toBe('backup.example.net');
    expect(trackerIdentity(pseudo)).toBeNull();
    expect(trackerIdentity([])).toBeNull();
  });

  test('is a fixed point of trackerHost (the catalog and the planner normalize again without change)', () => {
    const id = trackerIdentity([{ url: FIRST }]);
    expect(trackerHost(id)).toBe(id);
  });
});
