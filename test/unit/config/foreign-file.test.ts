// A config path that names some other file (a symlink committed in a pull request, a wrong --config): nothing of that file is echoed.
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/config/load.js';
import { checkText, tempDir } from './temp-config.js';

/** Every word a user would see of the problems: messages, hints and key paths. */
const shown = (r: { problems: { message: string; hint?: string; path: string }[] }): string => r.problems.map((p) => `${p.message}\n${p.hint ?? ''}\n${p.path}`).join('\n');

/** hashall.yaml as a symlink to `target` holding `text` (the review flow checks out whatever a branch commits). */
function linkedTo(text: string) {
  const dir = tempDir();
  const target = path.join(dir, 'secret-file');
  writeFileSync(target, text, { mode: 0o600 });
  const file = path.join(dir, 'hashall.yaml');
  symlinkSync(target, file);
  return { target, result: checkConfig(file, { env: { HOME: '/home/tester' }, cwd: dir }) };
}

describe('a file that is no hashall config', () => {
  it('an SSH private key behind a symlink: one error at 1:1 naming the real file, none of its text', () => {
    const { target, result } = linkedTo('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nQyNTUxOQAAACDSECRETSECRET\n-----END OPENSSH PRIVATE KEY-----\n');
    expect(result.config).toBeNull();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ severity: 'error', line: 1, col: 1, path: '' });
    expect(result.problems[0]!.message).toMatch(/^not a hashall config/);
    expect(result.problems[0]!.hint).toContain(target);
    expect(shown(result)).not.toMatch(/SECRET|BEGIN|b3Bl/);
  });

  it('a password file (colon-separated lines read as keys): none of its keys is echoed', () => {
    const { result } = linkedTo('root:$6$saltsalt$SECRETHASH1234:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n');
    expect(result.problems).toHaveLength(1);
    expect(shown(result)).not.toMatch(/SECRETHASH|saltsalt|daemon/);
  });

  it('a file with YAML errors and no hashall key: its keys and values stay unshown', () => {
    const { result } = linkedTo('token: [ghp_SECRETTOKEN123 \n  more: {\n');
    expect(result.problems).toHaveLength(1);
    expect(shown(result)).not.toMatch(/ghp_|SECRETTOKEN|token/);
  });

  it('/proc/self/environ (the environment, secrets included) is refused as a kernel pseudo file before it is read', () => {
    const dir = tempDir();
    const file = path.join(dir, 'hashall.yaml');
    symlinkSync('/proc/self/environ', file);
    const r = checkConfig(file, { env: { HOME: '/home/tester' }, cwd: dir });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/proc, a kernel pseudo filesystem/);
    expect(shown(r)).not.toContain(process.env.PATH ?? 'no-path');
    expect(shown(r)).not.toMatch(/PATH=|HOME=/);
  });

  it('a real config with a misspelt top-level key keeps its detailed errors and did-you-mean hints', () => {
    const r = checkText('verison: 1\nfilesystems:\n  a: { path: /a }\n');
    expect(r.errors.map((e) => e.message)).toContain('unknown key "verison"');
    expect(r.errors.find((e) => e.message === 'unknown key "verison"')?.hint).toMatch(/did you mean "version"/);
  });

  it('a document of misspelt keys only is still read as a config (each key is near one hashall knows)', () => {
    const r = checkText('verison: 1\nfilesytems:\n  a: { path: /a }\n');
    expect(r.errors.map((e) => e.message)).toEqual(expect.arrayContaining(['unknown key "verison"', 'unknown key "filesytems"']));
  });
});

describe('the top-level keys the judgment knows', () => {
  it('are the schema\'s', async () => {
    const { readFileSync } = await import('node:fs');
    const { schemaPath } = await import('../../../src/config/schema.js');
    const { TOP_LEVEL_KEYS } = await import('../../../src/config/foreign-file.js');
    const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as { properties: Record<string, unknown> };
    expect([...TOP_LEVEL_KEYS]).toEqual(Object.keys(schema.properties));
  });
});
