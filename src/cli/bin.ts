#!/usr/bin/env node
// Process entry point from source (tests, development): runs the CLI; the installed `hashall` is launcher.cts.
import { run } from './run.js';

await run(process.argv.slice(2));
