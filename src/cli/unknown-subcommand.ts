// A command that runs on its own and has subcommands too (`trash`, `runs`): a word that names none of them is an unknown command, not "too many arguments".
import type { Command } from 'commander';

/**
 * Call after `parent`'s subcommands are added: commander took a mistyped subcommand (`trash purg`) for an extra
 * argument of the parent and said "too many arguments"; it is said as what it is, with the subcommands to choose from.
 */
export function refuseUnknownSubcommands(parent: Command): void {
  // Only the parent's own excess check is lifted (its subcommands copied the setting when they were made).
  parent.allowExcessArguments(true);
  parent.hook('preAction', (self, action) => {
    if (action !== self || self.args.length === 0) return;
    const names = self.commands.map((c) => c.name());
    self.error(`error: unknown command '${self.args[0]}' for '${self.name()}' (its commands: ${names.join(', ')})`);
  });
}
