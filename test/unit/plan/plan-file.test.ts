// Saved plan files: serialize → parse round trip, schema validity (file snapshot), version and damage errors.
import { describe, expect, it } from 'vitest';
import { isAscii } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serializePlan, decodePlan, planHash } from '../../../src/plan/plan-file.js';
import { parsePlan, planText, planValidator, loadPlanSchema, readPlanFile, writePlanFile } from '../../../src/plan/plan-file-io.js';
import { renderPlanJson } from '../../../src/render/plan-json.js';
import { HashallError } from '../../../src/errors.js';
import { showcasePlan } from '../render/showcase.js';
import { compilePlanSchema } from '../../../scripts/gen-plan-validator.mjs';

describe('plan files', () => {
  it('round-trips a plan with every action and validates against schemas/plan.schema.json', async () => {
    const plan = showcasePlan();
    const text = serializePlan(plan);
    expect(planValidator()(JSON.parse(text))).toEqual([]);
    expect(parsePlan(text)).toEqual(plan);
    await expect(text).toMatchFileSnapshot('__snapshots__/showcase.plan.json');
  });

  it('the --json document (plan + summaryText) is valid too and parses back to the plan', () => {
    const plan = showcasePlan();
    const doc = renderPlanJson(plan);
    expect(planValidator()(JSON.parse(doc))).toEqual([]);
    expect(parsePlan(doc)).toEqual(plan);
  });

  it('refuses an unknown format version with a clear message', () => {
    const text = serializePlan({ ...showcasePlan(), formatVersion: 3 as 2 });
    expect(() => parsePlan(text, 'plan file x.json')).toThrow('plan file x.json has formatVersion 3; this hashall reads plan format versions 1 and 2 only');
    expect(() => parsePlan('{}', 'p')).toThrow('p has no formatVersion');
  });

  it('refuses non-JSON and schema violations, naming where', () => {
    expect(() => parsePlan('not json')).toThrow(HashallError);
    const bad = JSON.parse(serializePlan(showcasePlan()));
    bad.groups[0].action = 'teleport';
    bad.groups[1].steps[0].kind = 'explode';
    let msg = '';
    try {
      parsePlan(JSON.stringify(bad));
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/does not match schemas\/plan\.schema\.json/);
    expect(msg).toMatch(/\/groups\/0\/action: must be equal to one of the allowed values/);
  });

  it("a file that is not JSON is named with the line and column of the first fault, and none of its text is echoed (a plan path swapped for a symlink to a secret file must not print it)", () => {
    const said = (text: string) => {
      try {
        parsePlan(text, 'plan file p.json');
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    const secret = 'root:$6$SECRETHASH:19000:0:99999:7:::\n';
    expect(said(secret)).toBe('plan file p.json is not valid JSON (near its start)');
    expect(said(`{"aaaaaaaaaaaaaaaaaaaa": 1,\n "b": ${secret}`)).toBe('plan file p.json is not valid JSON (line 2, column 7)');
    expect(said('{\n  "a": 1,\n  }')).toBe('plan file p.json is not valid JSON (line 3, column 3)');
    expect(said('{} trailing')).toBe('plan file p.json is not valid JSON (line 1, column 4)');
    expect(said('')).toBe('plan file p.json is not valid JSON (it ends too early)');
    expect(said('{"groups": [')).toBe('plan file p.json is not valid JSON (it ends too early)');
  });

  it('decodePlan uses the validator it is given (pure core)', () => {
    const seen: unknown[] = [];
    const plan = decodePlan(serializePlan(showcasePlan()), (d) => (seen.push(d), ['/x: nope']).slice(1));
    expect(seen).toHaveLength(1);
    expect(plan.formatVersion).toBe(2);
    expect(() => decodePlan(serializePlan(showcasePlan()), () => ['/x: nope'])).toThrow('/x: nope');
  });

  it('the schema is strict (ajv strict mode compiles it)', () => {
    expect(loadPlanSchema().$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(planValidator(compilePlanSchema(loadPlanSchema()).validate)(JSON.parse(serializePlan(showcasePlan())))).toEqual([]);
  });

  it('the validator compiled ahead of time is schemas/plan.schema.json as it is now (else: node scripts/gen-plan-validator.mjs) and judges as the schema compiled now', async () => {
    const gen = await import('../../../scripts/gen-plan-validator.mjs');
    expect(readFileSync(gen.generatedFile, 'utf8')).toBe(gen.planValidatorSource(readFileSync(path.resolve(__dirname, '../../../schemas/plan.schema.json'), 'utf8')));
    const bad = JSON.parse(serializePlan(showcasePlan()));
    bad.groups[0].action = 'teleport';
    bad.groups[1].steps[0].kind = 'explode';
    bad.createdAt = 'yesterday';
    delete bad.catalog;
    const now = planValidator(compilePlanSchema(loadPlanSchema()).validate);
    expect(planValidator()(bad)).toEqual(now(bad));
    expect(now(bad).join('\n')).toMatch(/createdAt: must match format "date-time"/);
  });

  it('a plan file is all ASCII (other characters escaped) and reads back the same, names in any script; a file in UTF-8 (older, or edited) reads too', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-planfile-'));
    try {
      const file = path.join(dir, 'plan.json');
      const showcase = showcasePlan();
      const named = { ...showcase, groups: showcase.groups.map((g) => ({ ...g, title: `${g.title} — Amélie 東京 🎞 \u{7f}` })) };
      for (const plan of [showcase, named]) {
        writePlanFile(file, plan);
        expect(isAscii(readFileSync(file))).toBe(true);
        expect(readPlanFile(file).plan).toEqual(plan);
        expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(serializePlan(plan)));
        // As an older version wrote it: UTF-8, unescaped.
        writeFileSync(file, JSON.stringify(plan, null, 2));
        expect(readPlanFile(file).plan).toEqual(plan);
      }
      expect(planText(Buffer.from('{"a":"é"}', 'utf8'))).toBe('{"a":"é"}');
      expect(planText(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))).toBe(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]).toString('utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('readPlanFile (the one reader, for apply and show) returns the plan and the hash of the bytes on disk', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-planfile-'));
    try {
      const file = path.join(dir, 'plan.json');
      writePlanFile(file, showcasePlan());
      const { plan, hash } = readPlanFile(file);
      expect(plan).toEqual(showcasePlan());
      expect(hash).toBe(planHash(readFileSync(file)));
      // A device is no plan (before: `apply /dev/zero` read until memory ran out); a folder neither; a pipe is read.
      expect(() => readPlanFile(dir)).toThrow(`cannot read plan file ${dir}: it is a directory, not a plan`);
      expect(() => readPlanFile('/dev/zero')).toThrow('cannot read plan file /dev/zero: it is a device or socket, not a plan');
      const fifo = path.join(dir, 'plan.fifo');
      execFileSync('mkfifo', [fifo]);
      const writer = spawn('cp', [file, fifo], { stdio: 'ignore' });
      try {
        expect(readPlanFile(fifo).plan).toEqual(showcasePlan());
      } finally {
        writer.kill();
      }
      const missing = path.join(dir, 'nope.json');
      expect(() => readPlanFile(missing)).toThrow(`cannot read plan file ${missing}: it does not exist`);
      expect(() => readPlanFile(missing)).toThrow(expect.objectContaining({ hint: 'save a plan with `hashall plan --out FILE` first' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--out never replaces or writes through anything but a regular file, and its temp name cannot be planted', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-planfile-'));
    try {
      // Another user of a shared folder plants a symlink at the temp name (it was `.NAME.tmp-PID`): root followed it
      // and overwrote the file it points at.
      const victim = path.join(dir, 'victim');
      writeFileSync(victim, 'precious\n');
      const file = path.join(dir, 'plan.json');
      symlinkSync(victim, path.join(dir, `.plan.json.tmp-${process.pid}`));
      writePlanFile(file, showcasePlan());
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(readPlanFile(file).plan).toEqual(showcasePlan());
      expect(readdirSync(dir).sort()).toEqual(['.plan.json.tmp-' + process.pid, 'plan.json', 'victim']);
      // A symlink, a FIFO or a device at --out is refused, left as it was (it was replaced by the plan: `--out
      // /dev/full` put a regular file in place of the device).
      const link = path.join(dir, 'link.json');
      symlinkSync(victim, link);
      expect(() => writePlanFile(link, showcasePlan())).toThrow(`cannot write plan file ${link}: it is a symbolic link, not a regular file`);
      expect(readlinkSync(link)).toBe(victim);
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(() => writePlanFile(fifo, showcasePlan())).toThrow(`cannot write plan file ${fifo}: it is a FIFO, not a regular file`);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      // Nothing of ours is left behind.
      expect(readdirSync(dir).filter((n) => n.includes('tmp') && n !== `.plan.json.tmp-${process.pid}`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
