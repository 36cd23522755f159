// The CLI shell: help lists the exit codes from the one table (and the README agrees), the README's command table names every command and option, unknown commands fail with exit 1.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { EXIT_CODE_MEANING, ExitCode } from '../../../src/errors.js';
import { commandsFor } from '../../../src/cli/commands/index.js';
import { buildProgram } from '../../../src/cli/main.js';
import type { Command } from 'commander';

/** The codes in the first column of the README's "Exit codes" table (`| 130, 143 | …` names two). */
function readmeExitCodes(): number[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Exit codes'), readme.indexOf('\n## ', readme.indexOf('\n## Exit codes') + 5));
  const codes: number[] = [];
  for (const m of section.matchAll(/^\| ([0-9, ]+) \|/gm)) for (const c of m[1]!.split(',')) codes.push(Number(c.trim()));
  return codes.sort((a, b) => a - b);
}

/** Each command of the README's "Commands" table (`trash restore`) → the long options its usages there show. */
function readmeCommandOptions(): Map<string, Set<string>> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Commands');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const out = new Map<string, Set<string>>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `hashall '))) {
    const first = row.slice(1, row.indexOf(' |', 1));
    for (const [, usage] of first.matchAll(/`(hashall [^`]+)`/g)) {
      const words = usage!.split(' ').slice(1);
      const end = words.findIndex((w) => /^[-[<A-Z]/.test(w));
      const name = words.slice(0, end === -1 ? undefined : end).join(' ');
      const opts = out.get(name) ?? new Set<string>();
      for (const [o] of usage!.matchAll(/--[a-z][a-z-]*/g)) opts.add(o);
      out.set(name, opts);
    }
  }
  return out;
}

/** Each command the CLI runs (a group without options of its own, `catalog`, is only its subcommands) → its long options but --help and --config (documented once for all). */
async function cliCommandOptions(): Promise<Map<string, Set<string>>> {
  const program = await buildProgram({
    stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), now: () => 0, interactive: false, color: false, prompt: null,
  });
  const out = new Map<string, Set<string>>();
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const name = `${prefix}${sub.name()}`;
      const opts = new Set(sub.options.map((o) => o.long!).filter((o) => o !== '--help' && o !== '--config'));
      if (opts.size > 0 || sub.commands.length === 0) out.set(name, opts);
      walk(sub, `${name} `);
    }
  };
  walk(program, '');
  return out;
}

describe('hashall CLI', () => {
  it("the README's Commands table names every command with every option it takes, and nothing else", async () => {
    const cli = await cliCommandOptions();
    const readme = readmeCommandOptions();
    const sorted = (m: Map<string, Set<string>>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
    expect(cli.size).toBeGreaterThan(20);
    expect(sorted(readme)).toEqual(sorted(cli));
  });

  it('prints help with the documented exit codes and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: hashall');
    expect(r.stdout).toMatch(/4 +another hashall run holds the lock/);
    for (const code of Object.values(ExitCode)) expect(r.stdout).toContain(`  ${String(code).padEnd(4)} ${EXIT_CODE_MEANING[code]}`);
  });

  it('the README documents exactly the codes of the one ExitCode table', () => {
    expect(readmeExitCodes()).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it("each command's help names its codes from the same table", async () => {
    const apply = await runCli(['apply', '--help']);
    expect(apply.stdout).toContain(`${ExitCode.StalePlan} ${EXIT_CODE_MEANING[ExitCode.StalePlan]}`);
    expect(apply.stdout).toContain(`${ExitCode.Terminated} ${EXIT_CODE_MEANING[ExitCode.Terminated]}`);
    const doctor = await runCli(['doctor', '--help']);
    expect(doctor.stdout).toContain(`Exit codes: ${ExitCode.Ok} healthy (warnings allowed); ${ExitCode.Error} at least one problem.`);
  });

  it('rejects an unknown command with exit 1', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command|too many arguments/);
  });

  it('a mistyped command gets one line and a did-you-mean, not the whole help', async () => {
    const r = await runCli(['paln']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: unknown command 'paln'\n(Did you mean plan?)\n(add --help for usage)\n");
    const opt = await runCli(['plan', '--bogus']);
    expect(opt.stderr).toBe("error: unknown option '--bogus'\n(add --help for usage)\n");
  });

  it('loads only the command it runs: the named one, none for --version, all for help or an unknown word', async () => {
    expect(commandsFor(['plan', '--out', 'x'])).toEqual(['plan']);
    expect(commandsFor(['trash', 'restore', 'validate'])).toEqual(['trash']);
    expect(commandsFor(['--version'])).toEqual([]);
    expect(commandsFor(['--help']).length).toBeGreaterThan(10);
    expect(commandsFor(['help', 'plan'])).toEqual(commandsFor([]));
    expect(commandsFor(['paln'])).toEqual(commandsFor([]));
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(['help']);
    expect(help.stdout).toContain('reconcile');
  });

  it('--config may come before the command too (hashall --config FILE validate), as after it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-global-config-'));
    try {
      const file = path.join(dir, 'elsewhere.yaml');
      writeFileSync(file, 'version: 1\nfilesystems:\n  disk: { path: /srv }\n');
      // Run from a folder without hashall.yaml: the file is found only through the option.
      const opts = { cwd: dir, env: {} };
      const after = await runCli(['validate', '--offline', '--config', file], opts);
      expect(after.code).toBe(0);
      const before = await runCli(['--config', file, 'validate', '--offline'], opts);
      expect(before.code).toBe(0);
      expect(before.stdout).toBe(after.stdout);
      const short = await runCli(['-c', file, 'validate', '--offline'], opts);
      expect(short.code).toBe(0);
      // It loads only the command it runs, as without the option.
      expect(commandsFor(['--config', file, 'plan'])).toEqual(['plan']);
      expect(commandsFor([`--config=${file}`, 'plan'])).toEqual(['plan']);
      expect(commandsFor(['-c', 'plan', 'validate'])).toEqual(['validate']);
      // Given twice, or to a command that reads no config, it is a usage error (exit 1), not silently dropped.
      const twice = await runCli(['--config', file, 'validate', '--offline', '--config', file], opts);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toMatch(/--config.*twice/);
      const init = await runCli(['--config', file, 'init', '--path', dir], opts);
      expect(init.code).toBe(1);
      expect(init.stderr).toMatch(/init.*--config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plan --out onto a FIFO (or a device, a symlink), or into a folder that does not exist, is refused before the refresh: exit 1, nothing scanned', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-plan-out-'));
    try {
      mkdirSync(path.join(dir, 'seeding'));
      const cfg = path.join(dir, 'hashall.yaml');
      writeFileSync(cfg, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
      const fifo = path.join(dir, 'plan.fifo');
      execFileSync('mkfifo', [fifo]);
      const r = await runCli(['plan', '--config', cfg, '--out', fifo]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`hashall: cannot write plan file ${fifo}: it is a FIFO, not a regular file\n  hint: give --out the path of a regular file (or a new name)\n`);
      expect(existsSync(path.join(dir, 'state'))).toBe(false);
      // A folder that does not exist: said before the refresh too, not after it.
      const lost = path.join(dir, 'no-such-folder', 'plan.json');
      const r2 = await runCli(['plan', '--config', cfg, '--out', lost]);
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain(`cannot write plan file ${lost}: its folder ${path.dirname(lost)} does not exist`);
      expect(existsSync(path.join(dir, 'state'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
