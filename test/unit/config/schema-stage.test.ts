// The schema stage: unknown keys, wrong types, bad enum values, bad sizes/durations, mapped back to line:col.
import { describe, expect, it } from 'vitest';
import { brief, checkText } from './temp-config.js';

const base = (extra = ''): string => `version: 1
filesystems:
  stash:
    path: /stash/media
seeding:
  stash: [/stash/media/torrents]
${extra}`;

describe('schema stage', () => {
  it('rejects an unknown key at the key, with a did-you-mean hint', () => {
    const r = checkText(base('safety:\n  verfy: full\n'));
    expect(brief(r.errors)).toEqual(['8:3 safety.verfy unknown key "verfy"']);
    expect(r.errors[0]?.hint).toMatch(/did you mean "verify"/);
  });

  it('rejects an unknown top-level key', () => {
    const r = checkText(base('librarys: []\n'));
    expect(brief(r.errors)).toEqual(['7:1 librarys unknown key "librarys"']);
    expect(r.errors[0]?.hint).toMatch(/did you mean "libraries"/);
  });

  it('rejects wrong types at the value', () => {
    const r = checkText(base('libraries: /stash/media/movies\nclient:\n  type: qbittorrent\n  url: 8080\n'));
    expect(brief(r.errors)).toEqual([
      '7:12 libraries wrong type: expected a list, got string "/stash/media/movies"',
      '10:8 client.url wrong type: expected string, got number 8080',
    ]);
  });

  it('never echoes a secret: a numeric password is reported by its type only; credentials in a URL are masked', () => {
    const r = checkText(base('client:\n  type: qbittorrent\n  url: "ftp://admin:hunter2@127.0.0.1:8080"\n  password: 424242\n'));
    expect(brief(r.errors)).toEqual([
      '9:8 client.url not an http(s) URL: "ftp://***@127.0.0.1:8080"',
      '10:13 client.password wrong type: expected string, got number (a secret: value not shown)',
    ]);
    expect(JSON.stringify(r)).not.toMatch(/424242|hunter2/);
  });

  it('a request timeout of 0 or past an hour is an error at its position (30d timed out every request at once: Node fires a longer timer after 1 ms)', () => {
    const r = checkText(base('client:\n  url: http://x\n  timeout: 30d\nnotify:\n  - { url: http://n, format: json, timeout: 0 }\n  - { url: http://n, format: json, timeout: 2h }\n  - { url: http://n, format: json, timeout: 1h }\n'));
    expect(brief(r.errors)).toEqual([
      '9:12 client.timeout must be more than 0 and at most 1h (got 30d)',
      '11:45 notify[0].timeout must be more than 0 and at most 1h (got 0)',
      '12:45 notify[1].timeout must be more than 0 and at most 1h (got 2h)',
    ]);
  });

  it('rejects bad enum values and says which are allowed', () => {
    const r = checkText(base('safety:\n  verify: fast\n  retire: { mode: now }\n'));
    expect(brief(r.errors)).toEqual([
      '8:11 safety.verify invalid value "fast": must be one of "full", "sample"',
      '9:19 safety.retire.mode invalid value "now": must be one of "staged", "never"',
    ]);
  });

  it('rejects bad sizes and durations', () => {
    const r = checkText(base('dedupe:\n  minSize: 12XB\nsafety:\n  minFree: lots\n  maxScanAgeHours: 3 days\n  retire: { observeHours: -1 }\nclient:\n  type: qbittorrent\n  url: http://x\n  timeout: soon\n'));
    expect(brief(r.errors)).toEqual([
      '8:12 dedupe.minSize not a size: "12XB"',
      '10:12 safety.minFree not a size: "lots"',
      '11:20 safety.maxScanAgeHours not a duration: "3 days"',
      '12:27 safety.retire.observeHours must not be negative (got -1)',
      '16:12 client.timeout not a duration: "soon"',
    ]);
  });

  it('rejects a wrong version and a missing required key', () => {
    const r = checkText('version: 2\nseeding: {}\n');
    expect(brief(r.errors)).toEqual(['1:1  missing required key "filesystems"', '1:10 version format version 2 is newer than this hashall reads (1)']);
    expect(brief(checkText('version: 0\nfilesystems: {}\n').errors)).toContain('1:10 version invalid value 0: must be 1');
  });

  it('rejects invalid filesystem names at the key', () => {
    const r = checkText('version: 1\nfilesystems:\n  "my disk":\n    path: /a\n');
    expect(brief(r.errors)).toEqual(['3:3 filesystems["my disk"] not a valid name: "my disk"']);
  });

  it('reports every schema problem at once, across sections', () => {
    const r = checkText(base('dedupe: { minSize: big }\nsafety: { verify: maybe }\nplacement: { rules: [{ name: x, place: stash }] }\n'));
    expect(r.errors).toHaveLength(3);
    expect(r.errors.map((e) => e.path)).toEqual(['dedupe.minSize', 'safety.verify', 'placement.rules[0]']);
  });
});
