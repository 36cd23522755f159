// Lets a command action report a non-zero exit code without throwing (e.g. plan: 2 = changes pending).
import type { Command } from 'commander';

export function setExitCode(cmd: Command, code: number): void {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  (root as unknown as { __exitCode?: number }).__exitCode = code;
}
