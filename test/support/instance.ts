// Test support: a client instance's settings (ClientConfig) for in-process tests, named `default` unless told.
import type { ClientConfig, ClientType, PathMap } from '../../src/config/types.js';

export function testInstance(type: ClientType, url: string, opts: { name?: string; timeoutMs?: number; pathMaps?: PathMap[] } = {}): ClientConfig {
  const name = opts.name ?? 'default';
  return { name, at: opts.name ? ['clients', name] : ['client'], type, url, username: null, password: null, pathMaps: opts.pathMaps ?? [], timeoutMs: opts.timeoutMs ?? 10_000 };
}
