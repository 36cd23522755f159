// contentTree: every regular file under a folder (relative path → SHA-256 of every byte), the "nothing was lost" oracle of the scenarios.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Every regular file under `dir` (hidden ones included) → the SHA-256 of its bytes; a name that is not valid UTF-8
 * is read as bytes and keyed in latin1. A symlink anywhere fails the test (hashall never makes one); a missing `dir` is empty.
 */
export function contentTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: Buffer, rel: string): void => {
    for (const name of readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), name]);
      const utf8 = name.toString('utf8');
      const key = Buffer.from(utf8, 'utf8').equals(name) ? utf8 : name.toString('latin1');
      const r = rel ? `${rel}/${key}` : key;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) throw new Error(`symlink found at ${p.toString('latin1')}`);
      if (st.isDirectory()) walk(p, r);
      else if (st.isFile()) out.set(r, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(Buffer.from(dir), '');
  return out;
}
