import Database from 'better-sqlite3';
const db = new Database('/tmp/pb1m/catalog.db', { readonly: true });
const t = (label, fn) => { const t0 = performance.now(); const r = fn(); console.log(label, Math.round(performance.now()-t0), 'ms', JSON.stringify(r).slice(0,120), Math.round(process.memoryUsage().rss/1e6),'MB'); return r; };
const roots = db.prepare(`SELECT host_content_path h FROM torrents`).pluck().all();
const mount = db.prepare(`SELECT preferred_mount FROM filesystems WHERE id=1`).pluck().get();
const rels = roots.map(r => r.slice(mount.length+1)).sort();
const q = process.argv[2];
if (q==='sum') {
  const st = db.prepare(`SELECT count(*), sum(size), count(sha256), max(nlink), group_concat(substr(path, ?) || '|' || size || '|' || sha256, char(10)), group_concat(ino || '|' || mtime_ns || '|' || nlink, char(10)) FROM files WHERE fs_id = 1 AND status='active' AND path >= ? AND path < ?`).raw(true);
  let keep = [];
  t('summaries', () => { let n=0; for (const r of rels) { const row = st.get(r.length+2, r+'/', r+'0'); keep.push(row); n += row[0]; } return n; });
}
if (q==='sumidx') {
  const st = db.prepare(`SELECT count(*), sum(size), max(nlink) FROM files WHERE fs_id = 1 AND status='active' AND path >= ? AND path < ?`).raw(true);
  t('summaries idx-only', () => { let n=0; for (const r of rels) { const row = st.get(r+'/', r+'0'); n += row[0]; } return n; });
}
if (q==='links') {
  const st = db.prepare(`SELECT count(*) FROM files p CROSS JOIN files o INDEXED BY files_fs_ino ON o.fs_id = p.fs_id AND o.ino = p.ino AND o.status = 'active' AND o.id <> p.id WHERE p.fs_id = 1 AND p.status='active' AND p.path >= ? AND p.path < ?`).pluck();
  t('links count', () => { let n=0; for (const r of rels) n += st.get(r+'/', r+'0'); return n; });
}
if (q==='multi') t('multi-row inodes', () => db.prepare(`SELECT count(*) FROM (SELECT fs_id, ino FROM files INDEXED BY files_fs_ino GROUP BY fs_id, ino HAVING count(*) > 1)`).pluck().get());
if (q==='tf') { const keep=[]; t('torrent files concat', () => { let n=0; for (const r of db.prepare(`SELECT torrent_hash, count(*), group_concat(name || '|' || size, char(10)) FROM (SELECT torrent_hash, name, size FROM torrent_files ORDER BY torrent_hash, name) GROUP BY torrent_hash`).raw(true).iterate()) { keep.push(r); n++; } return n; }); }
if (q==='tf2') { const keep=[]; const st = db.prepare(`SELECT count(*), group_concat(name || '|' || size, char(10) ORDER BY name) FROM torrent_files WHERE torrent_hash = ?`).raw(true); const hs = db.prepare(`SELECT hash FROM torrents`).pluck().all(); t('torrent files per torrent', () => { let n=0; for (const h of hs) { keep.push(st.get(h)); n++; } return n; }); }
if (q==='dupsha') t('dup shas', () => db.prepare(`SELECT count(*) FROM (SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1)`).pluck().get());
if (q==='dupes') t('dupes via dup shas', () => db.prepare(`SELECT count(*) FROM (SELECT f.size, f.sha256 FROM (SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1) d CROSS JOIN files f INDEXED BY files_sha ON f.sha256 = d.sha256 WHERE f.fs_id = 1 AND f.status='active' AND f.size > 0 GROUP BY f.size, f.sha256 HAVING count(DISTINCT f.ino) > 1)`).pluck().get());
if (q==='hash') {
  const st = db.prepare(`SELECT group_concat(substr(path, ?) || '|' || size || '|' || sha256 || char(10), '') FROM files WHERE fs_id = 1 AND status='active' AND path >= ? AND path < ?`).pluck();
  const { createHash } = await import('node:crypto');
  t('concat+hash', () => { let n=0; for (const r of rels) { const s = st.get(r.length+2, r+'/', r+'0'); createHash('sha256').update(s).digest('hex'); n+=s.length; } return n; });
}
