// Benchmark: hashall's verified move of a payload of many small files (2,000 and 20,000 files of ~1 KiB in 100 folders)
// vs `cp -a` + `sync` of the same payload to the same target filesystem: the journal must stay linear in the file count.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCopy, places, scale } from './copy.js';

function writeSmallFiles(root: string, count: number): { relpath: string; size: number; sha256: string }[] {
  const out: { relpath: string; size: number; sha256: string }[] = [];
  for (let i = 0; i < count; i++) {
    const rel = `dir${String(i % 100).padStart(3, '0')}/file${String(i).padStart(6, '0')}.txt`;
    const p = path.join(root, rel);
    if (i < 100) mkdirSync(path.dirname(p), { recursive: true });
    const buf = Buffer.alloc(1024, `${i} `);
    writeFileSync(p, buf);
    out.push({ relpath: rel, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') });
  }
  return out.sort((a, b) => (a.relpath < b.relpath ? -1 : 1));
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const count of [2_000, 20_000].map((n) => Math.max(100, Math.round(n * scale())))) {
    const { srcBase, dstBase, note } = places(count * 2048);
    process.stderr.write(`bench copy-small: ${count} files of 1 KiB; ${note}\n`);
    try {
      const src = path.join(srcBase, 'seeding', 'Payload');
      const t = await measureCopy(srcBase, dstBase, src, writeSmallFiles(src, count));
      out[`files${count}CpSyncMs`] = t.cpSyncMs;
      out[`files${count}HashallMs`] = t.hashallMs;
      out[`files${count}Ratio`] = t.ratio;
      out[`files${count}HashallMsPerFile`] = Number((t.hashallMs / count).toFixed(3));
    } finally {
      rmSync(srcBase, { recursive: true, force: true });
      rmSync(dstBase, { recursive: true, force: true });
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
