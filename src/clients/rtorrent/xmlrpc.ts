// XML-RPC codec for the subset rTorrent speaks (string, i4/i8/int, boolean, double, array, struct, fault) — pure.

export type XmlRpcValue = string | number | boolean | XmlRpcValue[] | { [key: string]: XmlRpcValue };

/** A well-formed `<fault>` answer: the call reached rTorrent and it refused (unknown hash, bad command, …). */
export class XmlRpcFault extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'XmlRpcFault';
    this.code = code;
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function encodeValue(v: XmlRpcValue): string {
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`xmlrpc: ${v} is not an integer`);
    return Math.abs(v) < 2 ** 31 ? `<value><i4>${v}</i4></value>` : `<value><i8>${v}</i8></value>`;
  }
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(v).map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`);
  return `<value><struct>${members.join('')}</struct></value>`;
}

export function encodeCall(method: string, params: readonly XmlRpcValue[]): string {
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${params.map((p) => `<param>${encodeValue(p)}</param>`).join('')}</params></methodCall>`;
}

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

interface Tok {
  kind: 'open' | 'close' | 'empty' | 'text';
  name: string;
  text: string;
}

function tokenize(xml: string): Tok[] {
  const out: Tok[] = [];
  const re = /<\?[^>]*\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w.-]*)[^>]*?(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(xml)) !== null) {
    if (m.index !== at) throw new Error(`xmlrpc: unexpected character at ${at}`);
    at = re.lastIndex;
    if (m[4] !== undefined) out.push({ kind: 'text', name: '', text: m[4] });
    else if (m[2] !== undefined) out.push({ kind: m[1] ? 'close' : m[3] ? 'empty' : 'open', name: m[2], text: '' });
  }
  if (at !== xml.length) throw new Error(`xmlrpc: unparsable XML at ${at}`);
  return out;
}

class Reader {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  skipSpace(): void {
    while (this.toks[this.i]?.kind === 'text' && (this.toks[this.i] as Tok).text.trim() === '') this.i++;
  }
  open(name: string): void {
    this.skipSpace();
    const t = this.toks[this.i];
    if (t?.kind !== 'open' || t.name !== name) throw new Error(`xmlrpc: expected <${name}>, found ${t ? `${t.kind} ${t.name || JSON.stringify(t.text.slice(0, 20))}` : 'the end'}`);
    this.i++;
  }
  close(name: string): void {
    this.skipSpace();
    const t = this.toks[this.i];
    if (t?.kind !== 'close' || t.name !== name) throw new Error(`xmlrpc: expected </${name}>`);
    this.i++;
  }
  peekOpen(): string | null {
    this.skipSpace();
    const t = this.toks[this.i];
    return t?.kind === 'open' || t?.kind === 'empty' ? t.name : null;
  }
  text(): string {
    let s = '';
    while (this.toks[this.i]?.kind === 'text') s += (this.toks[this.i++] as Tok).text;
    return unescapeXml(s);
  }
}

function readValue(r: Reader, depth: number): XmlRpcValue {
  if (depth > 32) throw new Error('xmlrpc: nesting too deep');
  r.open('value');
  // An untyped <value>text</value> is a string.
  const t = r.toks[r.i];
  if (t?.kind === 'text' || t?.kind === 'close') {
    const s = r.text();
    r.close('value');
    return s;
  }
  const type = r.peekOpen();
  let v: XmlRpcValue;
  if (type === null) throw new Error('xmlrpc: empty <value>');
  if (r.toks[r.i]?.kind === 'empty') {
    r.i++;
    v = type === 'string' ? '' : type === 'nil' ? '' : (() => { throw new Error(`xmlrpc: empty <${type}/>`); })();
  } else if (type === 'string' || type === 'base64') {
    r.open(type);
    v = r.text();
    r.close(type);
  } else if (type === 'i4' || type === 'i8' || type === 'int' || type === 'double' || type === 'boolean') {
    r.open(type);
    const s = r.text().trim();
    r.close(type);
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new Error(`xmlrpc: <${type}> holds ${JSON.stringify(s.slice(0, 20))}`);
    v = type === 'boolean' ? n !== 0 : n;
  } else if (type === 'array') {
    r.open('array');
    r.open('data');
    const list: XmlRpcValue[] = [];
    while (r.peekOpen() === 'value') list.push(readValue(r, depth + 1));
    r.close('data');
    r.close('array');
    v = list;
  } else if (type === 'struct') {
    r.open('struct');
    const obj: Record<string, XmlRpcValue> = {};
    while (r.peekOpen() === 'member') {
      r.open('member');
      r.open('name');
      const name = r.text();
      r.close('name');
      obj[name] = readValue(r, depth + 1);
      r.close('member');
    }
    r.close('struct');
    v = obj;
  } else {
    throw new Error(`xmlrpc: unsupported type <${type}>`);
  }
  r.close('value');
  return v;
}

/** Decode a methodResponse: the single param, or throw XmlRpcFault for a fault; malformed XML throws Error. */
export function decodeResponse(xml: string): XmlRpcValue {
  const r = new Reader(tokenize(xml));
  r.open('methodResponse');
  if (r.peekOpen() === 'fault') {
    r.open('fault');
    const f = readValue(r, 0);
    const o = typeof f === 'object' && !Array.isArray(f) ? f : {};
    throw new XmlRpcFault(Number(o.faultCode ?? 0), String(o.faultString ?? 'fault'));
  }
  r.open('params');
  r.open('param');
  const v = readValue(r, 0);
  r.close('param');
  r.close('params');
  r.close('methodResponse');
  return v;
}
