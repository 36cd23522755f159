#!/usr/bin/env node
// Process entry point: runs main() with the real process context and exits with its code.
import { main } from './main.js';
import { processContext } from './context.js';

const code = await main(process.argv.slice(2), processContext());
process.exitCode = code;
