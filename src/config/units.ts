// Parses the size and duration notations of hashall.yaml into bytes and milliseconds (pure).

const SIZE_RE = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp](?:i?b)?|b)?\s*$/i;
const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * `500GB` → 500·10⁹, `1.5TiB` → 1.5·2⁴⁰, `4K` → 4096 (a bare letter is binary), a number → bytes.
 * Returns null when the value is not a size, or more than 8 PiB. Fractions of a byte are rounded down.
 */
export function parseSize(value: string | number): number | null {
  const bytes = sizeOf(value);
  // Past 2^53 (8 PiB) bytes are no longer counted exactly: no disk of a home server, and a typo's extra digits.
  return bytes !== null && bytes <= MAX_SIZE ? bytes : null;
}

const MAX_SIZE = 2 ** 53;

function sizeOf(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  const m = SIZE_RE.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit === 'b') return Math.floor(n);
  const letter = unit[0] ?? '';
  const factor = unit === letter || unit.includes('i') ? BINARY[letter] : DECIMAL[letter];
  if (factor === undefined) return null;
  return Math.floor(n * factor);
}

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)\s*/gy;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `24h`, `7d`, `1h30m`, `250ms` → milliseconds; a plain number is taken in `numberUnit` (e.g. hours).
 * Returns null when the value is not a duration.
 */
export function parseDuration(value: string | number, numberUnit: 'ms' | 's' | 'h' | 'd'): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value * (UNIT_MS[numberUnit] ?? 1) : null;
  }
  const s = value.trim();
  if (s === '') return null;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    pos = DURATION_PART.lastIndex;
  }
  return total;
}
