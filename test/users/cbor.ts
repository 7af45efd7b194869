/**
 * A tiny CBOR encoder (RFC 8949), enough for WebAuthn test fixtures: unsigned and
 * negative integers, byte and text strings, arrays and maps (Map for integer keys,
 * as COSE keys need). Definite lengths only.
 */
export type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | { [k: string]: Cbor }

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n])
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n])
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b
}

export function cborEncode(v: Cbor): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('only integers')
    return v >= 0 ? head(0, v) : head(1, -1 - v)
  }
  if (typeof v === 'string') { const b = Buffer.from(v, 'utf8'); return Buffer.concat([head(3, b.length), b]) }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)])
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cborEncode)])
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v)
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, val]) => [cborEncode(k), cborEncode(val)])])
}
