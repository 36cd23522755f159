// What a tree holds on disk for scenario assertions: its regular files with inode and size, the distinct inodes and their bytes, and a payload's content hashes (test support).
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from './apply-fixture.js';

/** Every regular file under `dir` (no symlink followed): its inode and size. */
export function filesUnder(dir: string): { path: string; ino: number; size: number }[] {
  const out: { path: string; ino: number; size: number }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) {
      const st = lstatSync(p);
      out.push({ path: p, ino: st.ino, size: st.size });
    }
  }
  return out;
}

/** Distinct inodes under `dir` and their bytes (each inode counted once, however many names it has there). */
export function inodeUsage(dir: string): { inodes: number; bytes: number } {
  const seen = new Map<number, number>();
  for (const f of filesUnder(dir)) seen.set(f.ino, f.size);
  return { inodes: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
}

/** SHA-256 of every file of a payload (a folder's by relpath, a one-file payload's under its name). */
export function contentHashes(root: string): Record<string, string> {
  if (lstatSync(root).isDirectory()) return hashTreeSync(root);
  return { [path.basename(root)]: createHash('sha256').update(readFileSync(root)).digest('hex') };
}
