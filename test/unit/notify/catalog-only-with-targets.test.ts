// The catalog is opened for notifications only when hashall.yaml has notification targets (plan, apply, doctor, reconcile).
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSecret } from '../../../src/config/normalize.js';
import { withCatalogDb } from '../../../src/reconcile/notify.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('withCatalogDb', () => {
  it('without notification targets: never opens (nor creates) the catalog; with one: opens it for the record', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-notify-open-'));
    const catalog = path.join(dir, 'catalog.db');
    const seen: unknown[] = [];
    await withCatalogDb({ catalog, notify: [] }, async (db) => void seen.push(db));
    expect(seen).toEqual([null]);
    expect(existsSync(catalog)).toBe(false);
    const target = { name: 't', format: 'json' as const, url: makeSecret('http://127.0.0.1:9/x', {}), headers: {}, events: ['blocked' as const], timeoutMs: 1000, retries: 0 };
    await withCatalogDb({ catalog, notify: [target] }, async (db) => void seen.push(db === null ? null : 'open'));
    expect(seen).toEqual([null, 'open']);
    expect(existsSync(catalog)).toBe(true);
  });
});
