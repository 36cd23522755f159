// The shipped GitHub Actions example parses as YAML, wires validate → plan → apply as documented, and every hashall
// command line in it uses only options the real CLI has.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { buildProgram } from '../../../src/cli/main.js';
import { packageRoot } from '../../../src/config/schema.js';

const file = path.join(packageRoot(), 'examples', 'github-actions', 'hashall-review.yml');

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string;
  'runs-on': string | string[];
  steps: Step[];
}

function load(): { on: Record<string, { types: string[]; paths: string[] }>; jobs: Record<string, Job>; env: Record<string, string> } {
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as ReturnType<typeof load>;
}

const runs = (j: Job): string => j.steps.map((s) => s.run ?? '').join('\n');
const selfHosted = (j: Job): boolean => ([] as string[]).concat(j['runs-on']).includes('self-hosted');

describe('examples/github-actions/hashall-review.yml', () => {
  it('parses as YAML: validate offline on a hosted runner for every PR, plan and apply on the host', () => {
    const wf = load();
    expect(wf.on.pull_request!.types).toEqual(expect.arrayContaining(['opened', 'synchronize', 'closed']));
    const { validate, plan, apply } = wf.jobs as { validate: Job; plan: Job; apply: Job };
    expect(selfHosted(validate)).toBe(false);
    expect(runs(validate)).toContain('hashall validate --offline');
    expect(validate.if).toBe("github.event.action != 'closed'");

    expect(selfHosted(plan)).toBe(true);
    expect(plan.needs).toBe('validate');
    // Never on the host for a fork's pull request.
    expect(plan.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(apply.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(runs(plan)).toMatch(/hashall plan .*--format markdown .*--out "(\$PLAN_DIR\/pr-\$\{\{ github\.event\.pull_request\.number \}\}\.json)" > plan\.md/);
    expect(runs(plan)).toContain('gh pr comment');

    expect(selfHosted(apply)).toBe(true);
    expect(apply.if).toContain('github.event.pull_request.merged == true');
    // apply runs exactly the plan file the review saw.
    const saved = /--out "([^"]+)"/.exec(runs(plan))![1];
    expect(runs(apply)).toContain(`hashall apply "${saved}"`);
    expect(apply.steps.find((s) => s.uses?.startsWith('actions/checkout'))?.with?.ref).toBe('${{ github.event.pull_request.merge_commit_sha }}');
  });

  it('every hashall command line uses a real command and only its real options', async () => {
    const wf = load();
    const program = await buildProgram({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/', now: () => 0, interactive: false, color: false, prompt: null });
    const lines = Object.values(wf.jobs).flatMap((j) => runs(j).split('\n')).filter((l) => /^\s*hashall /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const [, name, rest] = /^\s*hashall (\S+)(.*)$/.exec(line)!;
      const cmd = program.commands.find((c) => c.name() === name);
      expect(cmd, line).toBeDefined();
      const known = new Set(cmd!.options.map((o) => o.long));
      for (const flag of rest!.match(/(?<=\s)--[a-z-]+/g) ?? []) expect(known.has(flag), `${flag} in: ${line}`).toBe(true);
    }
  });
});
