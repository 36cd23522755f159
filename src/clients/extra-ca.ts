// The extra CA certificates the user trusts (NODE_EXTRA_CA_CERTS, handed over by the sh launcher as HASHALL_EXTRA_CA_CERTS): read once, at the first HTTPS connection, added to Node's roots.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { errnoCode } from '../errors.js';

/**
 * Node 20 parses the file NODE_EXTRA_CA_CERTS names at process start, before any code runs: with a whole system bundle
 * there (as some hosts set for every process) that is ~50-90 ms of every command, which almost never opens an HTTPS
 * connection (clients are usually on loopback http). The installed `hashall` (src/cli/hashall.sh) moves the variable to
 * HASHALL_EXTRA_CA_CERTS, and this reads that file when — and only when — an HTTPS connection is made: its certificates
 * are trusted beside Node's own roots (`tls.rootCertificates`), as Node does. A file that cannot be read or holds no
 * certificate is what it is to Node: one warning, then the default roots.
 */
export type ExtraCa = () => tls.SecureContext | undefined;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Why `err` stopped the read: its errno code (ENOENT, EACCES), else its message's first line. */
function reason(err: unknown): string {
  return errnoCode(err) || (err instanceof Error ? err.message.split('\n', 1)[0]! : String(err));
}

/**
 * The TLS context for HTTPS connections, made on the first call and kept: Node's default (undefined) without an extra
 * file, or when NODE_EXTRA_CA_CERTS names the same file (hashall.cjs run directly: Node loaded it at start); otherwise
 * Node's roots plus the file's certificates. `warn` gets one line, once, when the file is ignored (its path, never its
 * contents).
 */
export function extraCaLoader(env: NodeJS.ProcessEnv, warn: (line: string) => void): ExtraCa {
  let made = false;
  let context: tls.SecureContext | undefined;
  return () => {
    if (made) return context;
    made = true;
    const file = env.HASHALL_EXTRA_CA_CERTS;
    if (!file || file === env.NODE_EXTRA_CA_CERTS) return undefined;
    const ignored = (why: string): undefined => {
      warn(`hashall: warning: ignoring the extra CA certificates of ${JSON.stringify(file)} (NODE_EXTRA_CA_CERTS): ${why}; only the default roots are trusted\n`);
      return undefined;
    };
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (err) {
      return ignored(`cannot read it (${reason(err)})`);
    }
    const extra = text.match(PEM_CERT) ?? [];
    if (extra.length === 0) return ignored('it holds no PEM certificate');
    try {
      context = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
    } catch (err) {
      return ignored(`a certificate in it is unreadable (${reason(err)})`);
    }
    return context;
  };
}

/** The process's loader: the environment hashall started with, warnings on stderr. */
export const processExtraCa: ExtraCa = extraCaLoader(process.env, (line) => process.stderr.write(line));
