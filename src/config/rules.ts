// Cross-field rules of a normalized config: names that must exist, paths that must (not) nest, path maps (pure).
import type { HashallConfig, PathMap } from './types.js';
import type { KeyPath, RawProblem } from './problem.js';
import { isAtOrUnder } from '../domain/path-string.js';

const nestedEither = (a: string, b: string): boolean => isAtOrUnder(a, b) || isAtOrUnder(b, a);

interface Spelling {
  fs: string;
  value: string;
  at: KeyPath;
}

function spellings(config: HashallConfig, name: string): Spelling[] {
  const fs = config.filesystems[name];
  if (!fs) return [];
  return [{ fs: name, value: fs.path, at: ['filesystems', name, 'path'] }, ...fs.aliases.map((a, i) => ({ fs: name, value: a, at: ['filesystems', name, 'aliases', i] }))];
}

export function checkRules(config: HashallConfig): RawProblem[] {
  const out: RawProblem[] = [];
  const fsNames = Object.keys(config.filesystems);
  const known = fsNames.join(', ');
  const unknownFs = (name: string, at: KeyPath, what: string, allowKeep: boolean, atKey = false): void => {
    if (allowKeep && name === 'keep') return;
    if (config.filesystems[name]) return;
    out.push({ severity: 'error', path: at, atKey, message: `${what} names unknown filesystem "${name}"`, hint: `known filesystems: ${known}${allowKeep ? ' (or keep)' : ''}` });
  };

  // Filesystems: no two may share or nest a directory under any spelling; aliases differ from their own path.
  for (let i = 0; i < fsNames.length; i++) {
    const a = fsNames[i] as string;
    const own = spellings(config, a);
    for (const s of own.slice(1)) {
      if (nestedEither(s.value, own[0]?.value ?? '')) {
        out.push({ severity: 'error', path: s.at, message: `alias ${s.value} is the same as or nested with the filesystem's own path ${own[0]?.value}`, hint: 'an alias is another spelling of the same directory elsewhere (e.g. a bind mount); remove it' });
      }
    }
    for (let j = i + 1; j < fsNames.length; j++) {
      const b = fsNames[j] as string;
      let reported = false;
      for (const sb of spellings(config, b)) {
        for (const sa of own) {
          if (reported || !nestedEither(sa.value, sb.value)) continue;
          reported = true;
          const how = sa.value === sb.value ? 'is the same directory as' : isAtOrUnder(sb.value, sa.value) ? 'is inside' : 'contains';
          out.push({ severity: 'error', path: sb.at, message: `filesystem "${b}" (${sb.value}) ${how} filesystem "${a}" (${sa.value})`, hint: 'each filesystem entry must name a distinct place; give the directories that do not overlap (e.g. /stash/media and /pool/media)' });
        }
      }
    }
  }

  // Seeding roots: known filesystem, under its path, no duplicates or nesting.
  const allRoots: { value: string; at: KeyPath }[] = [];
  for (const [name, roots] of Object.entries(config.seeding)) {
    const fs = config.filesystems[name];
    if (!fs) {
      unknownFs(name, ['seeding', name], 'seeding', false, true);
    }
    roots.forEach((root, i) => {
      const at: KeyPath = ['seeding', name, i];
      if (fs && !isAtOrUnder(root, fs.path)) {
        const alias = fs.aliases.length ? ` or its aliases ${fs.aliases.join(', ')}` : '';
        out.push({ severity: 'error', path: at, message: `seeding root ${root} is not under filesystem "${name}" (${fs.path}${alias})`, hint: `list it under the filesystem it lives on, or fix filesystems.${name}.path` });
      }
      for (const other of allRoots) {
        if (other.value === root) out.push({ severity: 'error', path: at, message: `seeding root ${root} is listed twice`, hint: 'list each seeding root once' });
        else if (nestedEither(other.value, root)) out.push({ severity: 'error', path: at, message: `seeding root ${root} nests with seeding root ${other.value}`, hint: 'seeding roots must not contain each other; keep the outer one' });
      }
      allRoots.push({ value: root, at });
    });
  }

  // Libraries: never inside a seeding root, never containing one.
  config.libraries.forEach((lib, i) => {
    for (const root of allRoots) {
      if (!nestedEither(lib, root.value)) continue;
      const how = lib === root.value ? 'is the same directory as' : isAtOrUnder(lib, root.value) ? 'is inside' : 'contains';
      out.push({ severity: 'error', path: ['libraries', i], message: `library root ${lib} ${how} seeding root ${root.value}`, hint: 'libraries are the external consumers outside the seeding trees; list the library directories themselves' });
    }
  });

  // The catalog: never inside a seeding or library root, under any spelling — scanned there, hashall would catalog its
  // own database mid-write, and find it an orphan no torrent uses (staged into the trash by its own run).
  const rootSpellings = (root: string): string[] => {
    const fs = Object.values(config.filesystems).find((f) => isAtOrUnder(root, f.path));
    return [root, ...(fs?.aliases ?? []).map((a) => a + root.slice(fs!.path.length))];
  };
  const roots: { value: string; what: string }[] = [...allRoots.map((r) => ({ value: r.value, what: 'seeding root' })), ...config.libraries.map((l) => ({ value: l, what: 'library root' }))];
  for (const r of roots) {
    if (rootSpellings(r.value).some((spelled) => isAtOrUnder(config.catalog, spelled))) {
      out.push({ severity: 'error', path: ['catalog'], message: `catalog ${config.catalog} is inside ${r.what} ${r.value}`, hint: 'keep the catalog outside every seeding and library root (the default is ~/.local/state/hashall/catalog.db)' });
      break;
    }
  }

  // Path maps of each instance: unambiguous in both directions, and a round trip must give the path back.
  for (const instance of Object.values(config.clients)) {
    const maps = instance.pathMaps;
    maps.forEach((m, j) => {
      const at: KeyPath = [...instance.at, 'pathMaps', j];
      for (let i = 0; i < j; i++) {
        const p = maps[i];
        if (!p) continue;
        if (p.client === m.client) {
          out.push({ severity: 'error', path: [...at, 'client'], message: `client prefix ${m.client} is mapped twice (also pathMaps[${i}])`, hint: 'map each client prefix once' });
          continue;
        }
        if (p.host === m.host) {
          out.push({ severity: 'error', path: [...at, 'host'], message: `host prefix ${m.host} is mapped from two client prefixes (${p.client} and ${m.client}): mapping back to the client is ambiguous`, hint: 'keep one map per host directory' });
          continue;
        }
        type Side = 'client' | 'host';
        const pick: [PathMap, PathMap, Side] | null = isAtOrUnder(m.client, p.client)
          ? [p, m, 'client']
          : isAtOrUnder(p.client, m.client)
            ? [m, p, 'client']
            : isAtOrUnder(m.host, p.host)
              ? [p, m, 'host']
              : isAtOrUnder(p.host, m.host)
                ? [m, p, 'host']
                : null;
        if (!pick) continue;
        const [outer, inner, side] = pick;
        const consistent =
          side === 'client'
            ? inner.host === joinRel(outer.host, inner.client.slice(outer.client.length))
            : inner.client === joinRel(outer.client, inner.host.slice(outer.host.length));
        if (consistent) {
          out.push({ severity: 'warning', path: at, message: `path map ${m.client} → ${m.host} is implied by pathMaps[${i}] (${p.client} → ${p.host})`, hint: 'remove the redundant map' });
        } else {
          out.push({
            severity: 'error',
            path: at,
            message: `path maps ${p.client} → ${p.host} and ${m.client} → ${m.host} nest on the ${side} side but disagree: a path under ${inner[side]} would map there and back to a different place`,
            hint: 'map sibling directories instead of nested ones (e.g. /data/stash → /stash/media and /data/pool → /pool/media)',
          });
        }
      }
      const spelled = fsNames.flatMap((n) => spellings(config, n));
      if (!spelled.some((s) => isAtOrUnder(m.host, s.value))) {
        out.push({ severity: 'warning', path: [...at, 'host'], message: `host path ${m.host} is not under any configured filesystem`, hint: 'torrents under this prefix will be blocked as unknown; add the filesystem or fix the map' });
      }
    });
  }

  // Names that must refer to filesystems (and rule names that must be unique).
  const target = (name: string, at: KeyPath, what: string): void => {
    if (name === 'keep') return;
    if (!config.filesystems[name]) return unknownFs(name, at, what, true);
    if (!(config.seeding[name]?.length)) {
      out.push({ severity: 'error', path: at, message: `${what} places payloads on filesystem "${name}", which has no seeding roots`, hint: `add seeding.${name}: [<a directory on ${name}>]` });
    }
  };
  target(config.placement.default, ['placement', 'default'], 'placement.default');
  const ruleNames = new Map<string, number>();
  config.placement.rules.forEach((r, i) => {
    target(r.place, ['placement', 'rules', i, 'place'], `rule "${r.name}"`);
    const first = ruleNames.get(r.name);
    if (first !== undefined) out.push({ severity: 'error', path: ['placement', 'rules', i, 'name'], message: `duplicate rule name "${r.name}" (also rules[${first}])`, hint: 'rule names appear in plans as reasons; make each unique' });
    else ruleNames.set(r.name, i);
  });
  for (const [name, cat] of Object.entries(config.categories)) {
    if (cat.place !== null) target(cat.place, ['categories', name, 'place'], `category "${name}"`);
  }
  config.dedupe.filesystems.forEach((name, i) => unknownFs(name, ['dedupe', 'filesystems', i], 'dedupe.filesystems', false));
  return out;
}

function joinRel(base: string, rest: string): string {
  if (!rest) return base;
  return base === '/' ? rest : base + rest;
}
