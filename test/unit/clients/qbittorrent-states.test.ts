// Unit tests for the qBittorrent state normalization: every documented 4.x and 5.x state, and unknown input.
import { describe, expect, test } from 'vitest';
import { KNOWN_QBITTORRENT_STATES, isRunningState, phaseOfState } from '../../../src/clients/qbittorrent/states.js';
import type { TorrentPhase } from '../../../src/clients/types.js';

const expected: [string, TorrentPhase, boolean][] = [
  ['uploading', 'seeding', true],
  ['stalledUP', 'seeding', true],
  ['forcedUP', 'seeding', true],
  ['queuedUP', 'seeding', true],
  ['pausedUP', 'paused-complete', false],
  ['stoppedUP', 'paused-complete', false],
  ['pausedDL', 'paused-incomplete', false],
  ['stoppedDL', 'paused-incomplete', false],
  ['downloading', 'downloading', true],
  ['stalledDL', 'downloading', true],
  ['metaDL', 'downloading', true],
  ['forcedMetaDL', 'downloading', true],
  ['forcedDL', 'downloading', true],
  ['queuedDL', 'downloading', true],
  ['allocating', 'downloading', true],
  ['checkingUP', 'checking', false],
  ['checkingDL', 'checking', false],
  ['checkingResumeData', 'checking', false],
  ['moving', 'moving', false],
  ['missingFiles', 'missing-files', false],
  ['error', 'error', false],
  ['unknown', 'unknown', false],
];

describe('phaseOfState', () => {
  test.each(expected)('%s → %s (running %s)', (raw, phase, running) => {
    expect(phaseOfState(raw)).toBe(phase);
    expect(isRunningState(raw)).toBe(running);
  });

  test('the table above covers every state the module knows, and nothing more', () => {
    expect([...KNOWN_QBITTORRENT_STATES].sort()).toEqual(expected.map(([raw]) => raw).sort());
  });

  test('4.x paused and 5.x stopped states normalize to the same phase', () => {
    expect(phaseOfState('pausedUP')).toBe(phaseOfState('stoppedUP'));
    expect(phaseOfState('pausedDL')).toBe(phaseOfState('stoppedDL'));
  });

  test.each(['', 'PausedUP', 'pausedup', 'seeding', 'toString', '__proto__', 'constructor', 'hasOwnProperty'])(
    'unrecognized %j is unknown and not running (never a safe phase)',
    (raw) => {
      expect(phaseOfState(raw)).toBe('unknown');
      expect(isRunningState(raw)).toBe(false);
    },
  );
});
