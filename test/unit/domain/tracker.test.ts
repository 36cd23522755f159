// The tracker identity: the host of a torrent's first real tracker in tier order, and tracker secrets cut from a client's error text (src/domain/tracker.ts).
import { describe, expect, test } from 'vitest';
import { trackerHost, trackerIdentity, withoutTrackerSecrets } from '../../../src/domain/tracker.js';

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

describe('withoutTrackerSecrets', () => {
  const cut = (text: string, urls: string[] = [FIRST, BACKUP]) => withoutTrackerSecrets(text, urls, '<redacted>');

  test('a URL in the text keeps its scheme and host (and port); its path, query and login are cut; the sentence around it stays', () => {
    expect(cut(`announce to ${FIRST}: 403.`)).toBe('announce to https://tracker.example.org/<redacted>: 403.');
    expect(cut(`"${BACKUP}" timed out`)).toBe('"udp://backup.example.net:6969/<redacted>" timed out');
    expect(cut('see https://user:pw@other.example/x?torrent_pass=abc, then retry', [])).toBe('see https://other.example/<redacted>, then retry');
    expect(cut('https://tracker.example.org/ and http://tracker.example.org are up', [])).toBe('https://tracker.example.org/ and http://tracker.example.org are up');
  });

  test("the torrent's own passkeys are cut wherever they appear, as is or URL-encoded; endpoints and short words stay", () => {
    expect(cut(`unregistered passkey ${PK} (announce)`)).toBe('unregistered passkey <redacted> (announce)');
    const odd = 'a b/c+d=e';
    expect(cut(`key ${encodeURIComponent(odd)} and ${odd}`, [`http://t.example/announce.php?authkey=${encodeURIComponent(odd)}&uid=7`])).toBe('key <redacted> and <redacted>');
    expect(cut('No data found! Ensure your drives are connected', [FIRST])).toBe('No data found! Ensure your drives are connected');
    expect(cut('uid 7 has no announce right', ['http://t.example/announce?uid=7'])).toBe('uid 7 has no announce right');
    // Cut short by the client (Transmission keeps 128 bytes of a tracker's message), in the text or in a URL's tail.
    expect(cut(`unregistered passkey ${PK.slice(0, 12)}`)).toBe('unregistered passkey <redacted>');
    expect(cut('tracker.example.org says: unregistered')).toBe('tracker.example.org says: unregistered');
    expect(cut('tracker.example.org: no', [`https://tracker.example.org/tracker/announce/${PK}`])).toBe('tracker.example.org: no');
  });
});
