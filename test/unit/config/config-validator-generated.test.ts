// The config validator compiled ahead of time (src/config/config-schema.generated.ts) is the schema as it is now and words every problem alike.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { configValidatorSource, compileConfigSchema, generatedFile } from '../../../scripts/gen-config-validator.mjs';
import { configValidator, loadSchema, schemaPath, validateAgainstSchema } from '../../../src/config/schema.js';

/** One document breaking every kind of rule the schema has (each keyword validateAgainstSchema words on its own). */
const everyViolation = {
  version: 2, // const
  catalog: '', // minLength
  filesystems: { stash: { path: 'relative/path', aliases: ['/x'] }, 'bad name!': { path: '/p' } }, // pattern (absolutePath), propertyNames
  seeding: { stash: [] }, // minItems
  libraries: '/stash/movies', // type
  clients: {}, // minProperties
  client: { type: 'qbittorrent', url: 'ftp://admin:hunter2@host', password: 424242, timeout: 'soon' }, // pattern (url, masked), secret type, durationSeconds
  dedupe: { filesystems: ['stash', 'stash'], minSize: '12XB' }, // uniqueItems, size
  safety: { verfy: 'full', verify: 'fast', minFree: -1 }, // additionalProperties with a guess, enum, type/pattern of a size
  orphans: { trashHours: 'x' },
  notify: [{ format: 'json', events: [], retries: -3 }], // required, minItems, minimum
};

describe('config validator compiled ahead of time', () => {
  it('is schemas/hashall.schema.json as it is now (else: node scripts/gen-config-validator.mjs)', () => {
    const current = readFileSync(generatedFile, 'utf8') === configValidatorSource(readFileSync(schemaPath(), 'utf8'));
    expect(current, 'src/config/config-schema.generated.ts is stale: run node scripts/gen-config-validator.mjs').toBe(true);
  });

  it('reports every problem as the schema compiled now does, word for word', () => {
    const now = compileConfigSchema(loadSchema()).validate;
    const shipped = validateAgainstSchema(everyViolation, configValidator());
    expect(shipped).toEqual(validateAgainstSchema(everyViolation, now));
    const messages = shipped.map((p) => `${p.path.join('.')} ${p.message}`);
    for (const expected of [
      /^version format version 2 is newer than this hashall reads \(1\)$/,
      /^catalog must not be an empty string$/,
      /^filesystems\.bad name! not a valid name: "bad name!"$/,
      /^seeding\.stash must not be empty$/,
      /^libraries wrong type: expected a list, got string "\/stash\/movies"$/,
      /^clients must not be empty$/,
      /^client\.url not an http\(s\) URL: "ftp:\/\/\*\*\*@host"$/,
      /^client\.password wrong type: expected string, got number \(a secret: value not shown\)$/,
      /^client\.timeout not a duration: "soon"$/,
      /^dedupe\.filesystems duplicate list items \(positions 0 and 1\)$/,
      /^dedupe\.minSize not a size: "12XB"$/,
      /^safety\.verfy unknown key "verfy"$/,
      /^safety\.verify invalid value "fast": must be one of "full", "sample"$/,
      /^notify\.0 missing required key "url"$/,
      /^notify\.0\.events must not be empty$/,
      /^notify\.0\.retries must not be negative \(got -3\)$/,
    ]) {
      expect(messages.filter((m) => expected.test(m)), `${String(expected)} in:\n${messages.join('\n')}`).toHaveLength(1);
    }
    expect(shipped.find((p) => p.path.join('.') === 'safety.verfy')?.hint).toMatch(/^did you mean "verify"\? allowed keys here: /);
    expect(JSON.stringify(shipped)).not.toMatch(/424242|hunter2/);
  });
});
