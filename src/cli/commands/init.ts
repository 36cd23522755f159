// CLI command `hashall init`: writes a commented starter hashall.yaml from this machine's mounts; never overwrites.
import { closeSync, fchmodSync, fstatSync, openSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { HashallError, errnoCode } from '../../errors.js';
import { readMountInfo } from '../../fs/mountinfo.js';
import { spaceOf } from '../../fs/statfs.js';
import { initView } from '../../render/status-view.js';
import { writeView } from '../write-view.js';
import { findDataMounts, starterConfigText, starterMinFree } from '../../config/starter.js';
import { schemaPath } from '../../config/schema.js';

const MOUNTINFO = '/proc/self/mountinfo';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('write a commented starter hashall.yaml built from the mounts of this machine (never overwrites)')
    .option('--path <dir>', 'directory to write hashall.yaml into', '.')
    .option('--json', 'print one JSON document { file, filesystems, minFree } on stdout')
    .action((opts: { path: string; json?: boolean }) => {
      const dir = path.resolve(ctx.cwd, opts.path);
      const file = path.join(dir, 'hashall.yaml');
      const isDir = (p: string): boolean => {
        try {
          return statSync(p).isDirectory();
        } catch (_e) {
          return false;
        }
      };
      const found = findDataMounts(readMountInfo(MOUNTINFO), isDir);
      const { skippedOuter, skippedPools, skippedNoLinks, skippedSameFs } = found;
      const data = found.data.map((m) => {
        try {
          return { ...m, totalBytes: spaceOf(m.path).totalBytes };
        } catch (_e) {
          return m;
        }
      });
      const text = starterConfigText({ mounts: data, skippedOuter, skippedPools, skippedNoLinks, skippedSameFs, schemaRef: schemaPath(), mountInfoSource: MOUNTINFO });
      try {
        writeStarter(file, text);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EEXIST') throw new HashallError(`${file} already exists; not overwriting it`, { hint: 'edit it, or move it away and run `hashall init` again (or use --path DIR)' });
        throw new HashallError(`cannot write ${file}: ${code ?? (e as Error).message}`, { cause: e, hint: 'check that the directory exists and is writable' });
      }
      writeView(ctx, initView({ file, filesystems: data, minFree: starterMinFree(data) }, opts.json === true));
    });
}

/**
 * Creates `file` (never over anything: O_EXCL) holding `text`, writable by its owner only whatever the umask (000 would
 * make it 0666, and hashall refuses a config other users may write); a stricter umask (077) is kept.
 */
function writeStarter(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    fchmodSync(fd, fstatSync(fd).mode & 0o755);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
