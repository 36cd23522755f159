// `npm run build`: bundles the CLI with esbuild into dist/cli/ — main.cjs (every module but better-sqlite3, one file), hashall.cjs (the node launcher) and hashall (the sh launcher, the package's bin).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds into `outdir` (default dist/cli); returns the node launcher's path (hashall.cjs; the sh launcher `hashall` is beside it). */
export async function buildCli(outdir = path.join(root, 'dist', 'cli')) {
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', absWorkingDir: root };
  await build({
    ...common,
    entryPoints: ['src/cli/run.ts'],
    outfile: path.join(outdir, 'main.cjs'),
    // Native: loaded from node_modules at run time (workers resolve it by path too).
    external: ['better-sqlite3'],
    // The launcher runs this file as a vm.Script, which has no module loader: a builtin the code imports lazily
    // (`await import('node:readline/promises')`, apply's question) must become a require, not stay an import().
    supported: { 'dynamic-import': false },
    // main.cjs.map, for stack traces under HASHALL_DEBUG (src/cli/stack-map.ts): positions only, no source text, no
    // sourceMappingURL comment (node would not use it for the launcher's vm.Script anyway).
    sourcemap: 'external',
    sourcesContent: false,
    // ES modules that find their package (schemas/) or resolve from their own location get the bundle's file URL.
    define: { 'import.meta.url': '__hashallImportMetaUrl' },
    banner: { js: 'const __hashallImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  const sha256 = createHash('sha256').update(readFileSync(path.join(outdir, 'main.cjs'))).digest('hex');
  await build({ ...common, entryPoints: ['src/cli/launcher.cts'], outfile: path.join(outdir, 'hashall.cjs'), define: { HASHALL_BUNDLE_SHA256: JSON.stringify(sha256) } });
  // The package's bin: POSIX sh, so the extra-CA bundle is off node's start (src/cli/hashall.sh).
  copyFileSync(path.join(root, 'src', 'cli', 'hashall.sh'), path.join(outdir, 'hashall'));
  chmodSync(path.join(outdir, 'hashall'), 0o755);
  return path.join(outdir, 'hashall.cjs');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli(process.argv[2]);
