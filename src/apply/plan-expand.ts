// expandPlan: a plan's per-file lists left to the catalog (CatalogPayloadRef) read back at the plan's serial, checked against the plan.
//
// A plan as planned names the files of its copies and fingerprints by payload root (the catalog's active rows at or
// under it at the plan's serial) instead of listing them. Apply refuses a plan whose catalog serial changed, so these
// rows are the ones the planner read; each list read back is checked against what the plan says of it (file count,
// bytes, payload hash) and any difference makes the plan stale: never a guess.
import { StalePlanError } from '../errors.js';
import { payloadHash } from '../domain/payload-hash.js';
import { fileFingerprints } from '../plan/file-fingerprints.js';
import { payloadHashFrom } from '../plan/linked-moves.js';
import type { CatalogPayloadRef, CopyFile, CopyStep, FileFingerprint, GroupFingerprint, Plan, PlanGroup, PlanStep } from '../plan/types.js';
import type { PayloadFile } from '../domain/snapshot.js';
import type { CatalogDb } from '../catalog/db.js';
import { withPayloadFiles, type PayloadFilesLookup } from '../catalog/payload-files.js';

/** True when some copy step or fingerprint of the plan leaves its files to the catalog. */
export function hasCatalogRefs(plan: Plan): boolean {
  return plan.groups.some((g) => (g.fingerprint.payloads?.length ?? 0) > 0 || g.steps.some((s) => s.kind === 'copy' && s.files === undefined));
}

/**
 * The plan with every per-file list read from the catalog (the same plan when it has none): copy steps get `files`,
 * fingerprints get the files of their `payloads` merged into `files`, in the places and order the planner would have
 * listed them inline. Throws StalePlanError (exit 5) when the catalog is another one or changed since planning, or a
 * list read back does not match the plan.
 */
export function expandPlan(catalog: CatalogDb, plan: Plan): Plan {
  if (!hasCatalogRefs(plan)) return plan;
  if (plan.catalog.lineage !== catalog.lineage || plan.catalog.serial !== catalog.serial()) {
    const why =
      plan.catalog.lineage !== catalog.lineage
        ? `the plan was made from another catalog (lineage ${plan.catalog.lineage}, this one is ${catalog.lineage})`
        : `the catalog changed since planning (serial ${plan.catalog.serial} → ${catalog.serial()})`;
    throw new StalePlanError(`saved plan is stale:\n  - ${why}`);
  }
  const groups = withPayloadFiles(catalog, (lookup) => plan.groups.map((g) => expandGroup(g, lister(lookup))));
  return { ...plan, groups };
}

type Lister = (ref: CatalogPayloadRef, group: PlanGroup) => PayloadFile[];

/** The payload's files, or the plan is stale. */
function lister(lookup: PayloadFilesLookup): Lister {
  return (ref, group) => {
    const files = lookup(ref.fs, ref.root);
    if ('problem' in files) stale(group, files.problem);
    return files;
  };
}

function stale(group: PlanGroup, why: string): never {
  throw new StalePlanError(`saved plan is stale:\n  - ${group.id} (${group.title}): ${why}`);
}

function expandGroup(g: PlanGroup, list: Lister): PlanGroup {
  const refs = g.fingerprint.payloads ?? [];
  const refCopies = g.steps.some((s) => s.kind === 'copy' && s.files === undefined);
  if (refs.length === 0 && !refCopies) return g;
  const steps = refCopies ? g.steps.map((s): PlanStep => (s.kind === 'copy' && s.files === undefined ? expandCopy(g, s, list) : s)) : g.steps;
  return { ...g, steps, fingerprint: refs.length > 0 ? expandFingerprint(g, g.fingerprint, refs, list) : g.fingerprint };
}

/** The copy step with its files in the place the planner lists them (between toRoot and bytes). */
function expandCopy(g: PlanGroup, s: CopyStep, list: Lister): CopyStep {
  const rows = list({ fs: s.fromFs, root: s.fromRoot }, g);
  const files: CopyFile[] = [];
  let bytes = 0;
  for (const r of rows) {
    if (r.sha256 === null) stale(g, `${r.path} has no SHA-256 in the catalog any more`);
    files.push({ relpath: r.relpath, size: r.size, sha256: r.sha256 });
    bytes += r.size;
  }
  if (files.length !== s.catalogFiles || bytes !== s.bytes) stale(g, `the catalog holds ${files.length} file(s), ${bytes} bytes at ${s.fromRoot}; the plan copies ${s.catalogFiles ?? '?'} file(s), ${s.bytes} bytes`);
  const want = payloadHashFrom(g, s.fromRoot);
  if (want !== null && payloadHash(files) !== want) stale(g, `the files the catalog holds at ${s.fromRoot} are not the content the plan copies (payload hash differs)`);
  const { kind, fromFs, toFs, fromRoot, toRoot } = s;
  return { kind, fromFs, toFs, fromRoot, toRoot, files, bytes: s.bytes };
}

/** The fingerprint's files: those of its payloads then its own, merged as the planner merges them; `payloads` dropped. */
function expandFingerprint(g: PlanGroup, fp: GroupFingerprint, refs: CatalogPayloadRef[], list: Lister): GroupFingerprint {
  const lists: (readonly FileFingerprint[])[] = refs.map((r) => list(r, g));
  if (fp.files.length > 0) lists.push(fp.files);
  const { files: _inline, payloads: _refs, ...rest } = fp;
  return { files: fileFingerprints(lists), ...rest };
}
