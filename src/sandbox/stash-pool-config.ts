// The text of a hashall.yaml for a throwaway stash/pool pair (the demo seedbox and the test fixtures): one writer of those lines.

/** What the demo and the fixtures vary; every path is written quoted, so any name survives YAML. */
export interface StashPoolConfig {
  /** Catalog path (relative to the file's directory, or absolute). */
  catalog: string;
  stash: string;
  pool: string;
  /** Seeding roots per filesystem; a filesystem without any is left out of `seeding:`. */
  seeding: { stash?: readonly string[]; pool?: readonly string[] };
  libraries?: readonly string[];
  /** The one client instance (`client:`): its URL written as is (a sandbox's loopback URL, which tests edit in place), its password quoted, e.g. a `${VAR}` reference. */
  client?: { type: 'qbittorrent' | 'transmission' | 'rtorrent' | 'deluge'; url: string; password?: string };
  /** Several named instances (`clients:`), each one line with its type, URL and credentials if any; instead of `client`. */
  clients?: Record<string, { type: 'qbittorrent' | 'transmission' | 'rtorrent' | 'deluge'; url: string; username?: string; password?: string }>;
  /** A comment line written first (without the `# `). */
  comment?: string;
}

const q = (s: string): string => JSON.stringify(s);
const list = (items: readonly string[]): string => `[${items.map(q).join(', ')}]`;

/** hashall.yaml text: version, catalog, filesystems, seeding, libraries, client or clients, then `extra` lines (further top-level keys). */
export function stashPoolConfigText(c: StashPoolConfig, extra: readonly string[] = []): string {
  const seeding = (['stash', 'pool'] as const).flatMap((fs) => (c.seeding[fs]?.length ? [`  ${fs}: ${list(c.seeding[fs] ?? [])}`] : []));
  return [
    ...(c.comment === undefined ? [] : [`# ${c.comment}`]),
    'version: 1',
    `catalog: ${q(c.catalog)}`,
    'filesystems:',
    `  stash: { path: ${q(c.stash)} }`,
    `  pool: { path: ${q(c.pool)} }`,
    ...(seeding.length ? ['seeding:', ...seeding] : []),
    ...(c.libraries?.length ? [`libraries: ${list(c.libraries)}`] : []),
    ...(c.client ? ['client:', `  type: ${c.client.type}`, `  url: ${c.client.url}`, ...(c.client.password === undefined ? [] : [`  password: ${q(c.client.password)}`])] : []),
    ...(c.clients ? ['clients:', ...Object.entries(c.clients).map(([name, i]) => `  ${name}: { type: ${i.type}, url: ${q(i.url)}${i.username === undefined ? '' : `, username: ${q(i.username)}`}${i.password === undefined ? '' : `, password: ${q(i.password)}`} }`)] : []),
    ...extra,
    '',
  ].join('\n');
}
