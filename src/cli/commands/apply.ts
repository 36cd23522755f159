// CLI command `hashall apply PLANFILE`: applies a saved plan (lock, recovery, preflight, journal) and reports the run.
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { setExitCode } from '../exit.js';
import { HashallError } from '../../errors.js';
import { crashHookFromEnv } from '../../apply/crash-hook.js';
import { readPlanFile, runApply } from '../../apply/run-apply.js';
import { eventSink, makeClient, makeRecordTree } from '../apply-support.js';

interface ApplyOptions extends ConfigOptionValues {
  autoApprove?: boolean;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('apply')
    .description('apply a saved plan: copy, link, repoint and retire with a journal, verification and rollback')
    .argument('[planfile]', 'a plan saved with `hashall plan --out FILE`')
    .option('--auto-approve', 'do not ask for confirmation (cron/CI)')
    .option('--json', 'NDJSON progress events on stdout');
  addConfigOption(cmd);
  cmd.action(async (planfile: string | undefined, opts: ApplyOptions, command: Command) => {
    if (!planfile) {
      throw new HashallError('`hashall apply` needs a saved plan file for now', { hint: 'run `hashall plan --out plan.json`, review it, then `hashall apply plan.json`' });
    }
    const { config } = loadConfigForCommand(opts, ctx);
    const file = path.resolve(ctx.cwd, planfile);
    const { plan, hash } = readPlanFile(file);
    const client = makeClient(config, ctx);
    const sink = eventSink(ctx, Boolean(opts.json));
    try {
      const { result } = await runApply({
        config,
        client,
        plan,
        planFile: file,
        planHash: hash,
        command: `hashall apply ${planfile}`,
        now: ctx.now,
        emit: sink.emit,
        recordTree: makeRecordTree(config, ctx),
        onBoundary: crashHookFromEnv(ctx.env),
        log: (l) => ctx.stderr.write(`hashall: ${l}\n`),
      });
      sink.end();
      if (!opts.json) {
        ctx.stdout.write(
          `Apply ${result.status}: ${result.groups.filter((g) => g.status === 'done').length}/${result.groups.length} group(s) done, ` +
            `${result.bytesCopied} bytes copied, ${result.bytesFreed} bytes freed (run ${result.runId}).\n`,
        );
        for (const g of result.groups.filter((x) => x.status !== 'done')) ctx.stdout.write(`  ${g.id} ${g.title}: ${g.status}${g.error ? ` — ${g.error}` : ''}\n`);
        for (const p of result.guardProblems) ctx.stdout.write(`  GUARD: ${p}\n`);
        for (const a of result.attention) ctx.stdout.write(`  NEEDS ATTENTION: ${a}\n`);
        if (result.status !== 'succeeded') ctx.stdout.write(`  details: hashall runs show ${result.runId}\n`);
      }
      setExitCode(command, result.status === 'succeeded' ? 0 : 1);
    } finally {
      sink.end();
      await client?.close();
    }
  });
}
