// CLI command `hashall unlock` (placeholder: registers nothing until implemented).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(_program: Command, _ctx: CliContext): void {}
