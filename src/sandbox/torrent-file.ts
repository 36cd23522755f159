// Bencode codec, real v1 .torrent files hashed from data on disk, and adding them to a sandbox daemon (demo and tests).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { QbtSandbox } from './qbt-sandbox.js';

export type Bencoded = number | Buffer | string | Bencoded[] | Map<string, Bencoded> | { [key: string]: Bencoded };

export function bencode(v: Bencoded): Buffer {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`bencode: ${v} is not an integer`);
    return Buffer.from(`i${v}e`);
  }
  if (typeof v === 'string') return bencode(Buffer.from(v, 'utf8'));
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  // Dictionary keys are sorted as raw bytes.
  entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const parts: Buffer[] = [Buffer.from('d')];
  for (const [k, val] of entries) parts.push(bencode(Buffer.from(k, 'utf8')), bencode(val));
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}

/** Decode bencode: byte strings stay Buffers, dictionaries become Maps keyed by UTF-8 strings. */
export function bdecode(buf: Buffer): Bencoded {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`bdecode: ${why} at byte ${i}`);
  };
  const next = (depth: number): Bencoded => {
    if (depth > 64) fail('nesting too deep');
    const c = buf[i];
    if (c === undefined) return fail('unexpected end');
    if (c === 0x69) {
      const end = buf.indexOf(0x65, i);
      if (end < 0) fail('unterminated integer');
      const text = buf.toString('latin1', i + 1, end);
      if (!/^-?\d+$/.test(text)) fail(`bad integer ${JSON.stringify(text)}`);
      i = end + 1;
      return Number(text);
    }
    if (c === 0x6c) {
      i++;
      const list: Bencoded[] = [];
      while (buf[i] !== 0x65) list.push(next(depth + 1));
      i++;
      return list;
    }
    if (c === 0x64) {
      i++;
      const dict = new Map<string, Bencoded>();
      while (buf[i] !== 0x65) {
        const k = next(depth + 1);
        if (!Buffer.isBuffer(k)) fail('dictionary key is not a string');
        dict.set((k as Buffer).toString('utf8'), next(depth + 1));
      }
      i++;
      return dict;
    }
    const colon = buf.indexOf(0x3a, i);
    const lenText = buf.toString('latin1', i, colon);
    if (colon < 0 || !/^\d+$/.test(lenText)) fail('bad string length');
    const start = colon + 1;
    const end = start + Number(lenText);
    if (end > buf.length) fail('string runs past the end');
    i = end;
    return Buffer.from(buf.subarray(start, end));
  };
  const out = next(0);
  if (i !== buf.length) fail('trailing bytes');
  return out;
}

export interface PayloadFile {
  /** Path inside the payload (`a.bin`, `sub/b.bin`); for a single-file torrent, omit it. */
  path?: string;
  size?: number;
  content?: Buffer | string;
}

export interface TorrentSpec {
  /** Directory that holds the payload (the save path). */
  saveDir: string;
  /** Top-level name: the file of a single-file torrent, the root folder of a multi-file torrent. */
  name: string;
  /** One entry without `path` = single-file torrent; otherwise multi-file, kept in the given order. */
  files: PayloadFile[];
  pieceLength?: number;
  /** Loopback literals only, e.g. http://127.0.0.1:1/announce. */
  trackers?: string[];
  private?: boolean;
  /** Write the files (size → deterministic bytes derived from the path) before hashing. Default true. */
  write?: boolean;
  /**
   * BEP 47 padding, as libtorrent 2 makes hybrid torrents: every file but the last is followed by a pad file
   * `.pad/N` (attr "p", N its length) that ends it on a piece boundary. `onDisk` writes the pad files too (clients
   * without BEP 47 — Transmission 3, rTorrent 0.9 — download them as zeros; libtorrent's clients never write them).
   */
  pad?: { onDisk: boolean; style?: PadStyle };
}

/**
 * `bep47`: `.pad/N` entries with attr "p" (libtorrent 2's hybrid torrents). `bitcomet`: BitComet's older padding,
 * before BEP 47 — an entry without attributes named `_____padding_file_K_…____` in the padded file's own folder, which
 * libtorrent's clients recognise by that name (qBittorrent hides it and never writes it).
 */
export type PadStyle = 'bep47' | 'bitcomet';

/** The name BitComet gives its K-th padding file. */
export function bitCometPadName(k: number): string {
  return `_____padding_file_${k}_if you see this file, please update to BitComet 0.85 or above____`;
}

export interface MadeTorrent {
  buffer: Buffer;
  infoHash: string;
  /** Absolute paths of the payload files, in torrent order. */
  paths: string[];
  /** What qBittorrent will report as content_path when added with savepath = saveDir. */
  contentPath: string;
}

/** Deterministic bytes for a fixture file: distinct for distinct seeds. */
export function fixtureBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function checkTracker(url: string): void {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`torrent fixture: tracker ${url} is not a loopback IP literal`);
}

/** Build a v1 .torrent from the real bytes on disk (writing them first unless write:false). */
export function makeTorrent(spec: TorrentSpec): MadeTorrent {
  const single = spec.files.length === 1 && spec.files[0]?.path === undefined;
  if (!single && spec.files.some((f) => !f.path)) throw new Error('torrent fixture: multi-file entries need a path');
  if (spec.pad && single) throw new Error('torrent fixture: pad files need a multi-file torrent');
  const pieceLength = spec.pieceLength ?? 16 * 1024;
  const root = path.join(spec.saveDir, spec.name);
  const paths = single ? [root] : spec.files.map((f) => path.join(root, f.path as string));
  spec.files.forEach((f, i) => {
    const p = paths[i] as string;
    if (spec.write === false) return;
    mkdirSync(path.dirname(p), { recursive: true });
    const data = f.content !== undefined ? Buffer.from(f.content) : fixtureBytes(`${spec.name}/${f.path ?? ''}`, f.size ?? 0);
    writeFileSync(p, data);
  });
  const datas = paths.map((p) => readFileSync(p));
  // The torrent's file entries in order, pad files (zeros) between them when asked.
  const entries: { length: number; path: string[]; pad: boolean }[] = [];
  const chunks: Buffer[] = [];
  let pads = 0;
  datas.forEach((d, i) => {
    entries.push({ length: d.length, path: (spec.files[i]?.path ?? '').split('/'), pad: false });
    chunks.push(d);
    const rest = d.length % pieceLength;
    if (spec.pad && i < datas.length - 1 && rest !== 0) {
      const n = pieceLength - rest;
      const bitcomet = spec.pad.style === 'bitcomet';
      const padPath = bitcomet ? [...(spec.files[i]?.path ?? '').split('/').slice(0, -1), bitCometPadName(pads++)] : ['.pad', String(n)];
      entries.push({ length: n, path: padPath, pad: !bitcomet });
      chunks.push(Buffer.alloc(n));
      if (spec.pad.onDisk) {
        const onDisk = path.join(root, ...padPath);
        mkdirSync(path.dirname(onDisk), { recursive: true });
        writeFileSync(onDisk, Buffer.alloc(n));
      }
    }
  });
  const all = Buffer.concat(chunks);
  const pieces: Buffer[] = [];
  for (let off = 0; off < all.length; off += pieceLength) pieces.push(createHash('sha1').update(all.subarray(off, off + pieceLength)).digest());
  const info = new Map<string, Bencoded>([
    ['name', spec.name],
    ['piece length', pieceLength],
    ['pieces', Buffer.concat(pieces)],
  ]);
  if (single) info.set('length', all.length);
  else info.set('files', entries.map((e): Bencoded => (e.pad ? { attr: 'p', length: e.length, path: e.path } : { length: e.length, path: e.path })));
  if (spec.private) info.set('private', 1);
  const torrent = new Map<string, Bencoded>([['info', info], ['created by', 'hashall tests']]);
  const trackers = spec.trackers ?? [];
  trackers.forEach(checkTracker);
  if (trackers[0]) {
    torrent.set('announce', trackers[0]);
    torrent.set('announce-list', trackers.map((t) => [t]));
  }
  return { buffer: bencode(torrent), infoHash: createHash('sha1').update(bencode(info)).digest('hex'), paths, contentPath: root };
}

export interface AddOptions {
  savepath: string;
  category?: string;
  tags?: string[];
  /** Default true. */
  paused?: boolean;
  skipChecking?: boolean;
  /** Original | Subfolder | NoSubfolder */
  contentLayout?: string;
  rename?: string;
  /** Automatic Torrent Management (the save path then follows the category); absent: the daemon's default (manual). */
  autoTMM?: boolean;
  /** Wait until the torrent is listed and past checkingResumeData/moving (default true, 15 s bound). */
  settle?: boolean;
}

export interface RawTorrent {
  hash: string;
  state: string;
  save_path: string;
  content_path: string;
  progress: number;
  [key: string]: unknown;
}

/** Add a .torrent through POST /torrents/add (multipart) and, by default, wait until it settled. */
export async function addTorrent(sb: QbtSandbox, torrent: MadeTorrent, o: AddOptions): Promise<RawTorrent | null> {
  const form = new FormData();
  form.append('torrents', new Blob([torrent.buffer], { type: 'application/x-bittorrent' }), `${torrent.infoHash}.torrent`);
  form.append('savepath', o.savepath);
  if (o.category !== undefined) form.append('category', o.category);
  if (o.tags?.length) form.append('tags', o.tags.join(','));
  const paused = o.paused ?? true;
  form.append('paused', String(paused)); // 4.x name
  form.append('stopped', String(paused)); // 5.x name
  if (o.skipChecking) form.append('skip_checking', 'true');
  if (o.contentLayout) form.append('contentLayout', o.contentLayout);
  if (o.rename) form.append('rename', o.rename);
  if (o.autoTMM !== undefined) form.append('autoTMM', String(o.autoTMM));
  const res = await sb.api('POST', '/torrents/add', form);
  if (res.status !== 200 || res.text.trim() !== 'Ok.') throw new Error(`torrents/add answered ${res.status} ${res.text}\n${sb.logTail(10)}`);
  if (o.settle === false) return null;
  return waitSettled(sb, torrent.infoHash);
}

const TRANSIENT = /^(checking|moving|queued|metaDL|allocating)/;

/** Poll one torrent (hash filter) until it is listed and not in a transient state; bounded. */
export async function waitSettled(sb: QbtSandbox, hash: string, timeoutMs = 15_000): Promise<RawTorrent> {
  const deadline = Date.now() + timeoutMs;
  let last: RawTorrent | undefined;
  for (let i = 0; i < 1000; i++) {
    const res = await sb.api('GET', `/torrents/info?hashes=${hash}`);
    last = (JSON.parse(res.text) as RawTorrent[])[0];
    if (last && !TRANSIENT.test(last.state)) return last;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`torrent ${hash} did not settle within ${timeoutMs} ms (last: ${last?.state ?? 'not listed'})\n${sb.logTail(10)}`);
}
