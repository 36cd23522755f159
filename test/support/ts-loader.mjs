// Test support: Node module hooks that transpile .ts (and resolve `./x.js` to `./x.ts`) with the TypeScript compiler.
// Transpiled output is cached by content hash under the OS temp dir, so child processes start fast after the first: one
// folder per user, 0700, used only when it is this user's and private (another user's planted file is never run).
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { existsSync, lstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const uid = process.getuid?.() ?? 0;
const cacheDir = path.join(tmpdir(), `hashall-ts-cache-${uid}`);

/** The cache folder, made 0700 if missing; null when it is not this user's private folder (then nothing is cached). */
async function privateCacheDir() {
  await mkdir(cacheDir, { recursive: true, mode: 0o700 }).catch(() => {});
  const st = lstatSync(cacheDir, { throwIfNoEntry: false });
  return st && st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? cacheDir : null;
}
let ts = null;

export async function resolve(specifier, context, next) {
  if ((specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:')) && specifier.endsWith('.js') && context.parentURL) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(fileURLToPath(url))) {
      const tsUrl = new URL(url.href.replace(/\.js$/, '.ts'));
      if (existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true, format: 'module' };
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const key = createHash('sha256').update(file).update('\0').update(source).digest('hex');
  const dir = await privateCacheDir();
  const cached = dir === null ? null : path.join(dir, `${key}.js`);
  if (cached !== null && existsSync(cached)) return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  ts ??= (await import('typescript')).default;
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  if (cached !== null) {
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(tmp, out.outputText, { mode: 0o600 });
    await rename(tmp, cached);
  }
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
