// The wording of system errors in messages: a code a user meets becomes words about the path; any other keeps the error's own text.
import { describe, expect, it } from 'vitest';
import { errnoWords } from '../../../src/domain/errno-words.js';

describe('errnoWords', () => {
  it('says what the common codes mean for the path, never the code name', () => {
    for (const code of ['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'ELOOP', 'EROFS', 'ENOSPC', 'EISDIR', 'EIO']) {
      const words = errnoWords(code, `${code}: raw text`);
      expect(words, code).not.toContain(code);
      expect(words.length, code).toBeGreaterThan(5);
    }
    expect(errnoWords('ENOENT', 'x')).toBe('does not exist');
    expect(errnoWords('EROFS', 'x')).toBe('is on a filesystem mounted read-only');
  });

  it('an unknown code or none keeps the error text', () => {
    expect(errnoWords('EWEIRD', 'EWEIRD: something odd')).toBe('cannot be used: EWEIRD: something odd');
    expect(errnoWords(undefined, 'plain failure')).toBe('cannot be used: plain failure');
  });
});
