/**
 * What a file really is, from its bytes. Cheap: magic numbers, a ZIP's central
 * directory (names only, including Info-ZIP Unicode Path names; nothing is inflated)
 * and OLE2 stream names; never a full parse. Used by attachments.ts to refuse
 * executables, scripts and macros whatever the file is called.
 */
export type SniffedKind =
  | 'executable' | 'script' | 'pdf' | 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'tiff'
  | 'zip' | 'ole' | 'mp3' | 'mp4' | 'wav' | 'ogg' | 'text' | 'unknown'

const startsWith = (b: Buffer, sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x)
const ascii = (b: Buffer, s: string, at = 0) => b.length >= at + s.length && b.toString('latin1', at, at + s.length) === s

const EXECUTABLE_MAGIC: number[][] = [
  [0x4d, 0x5a], // MZ: Windows PE/DOS
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe], // Mach-O
  [0xca, 0xfe, 0xba, 0xbe], // Mach-O fat binary / Java class
  [0x00, 0x61, 0x73, 0x6d], // WebAssembly
]

export function sniff(b: Buffer): SniffedKind {
  if (EXECUTABLE_MAGIC.some((m) => startsWith(b, m))) return 'executable'
  if (ascii(b, '#!') || /^\s*(<\?php|<script|@echo off|<job|<package|<html|<!doctype html|<svg|<\?xml[^>]*>\s*<svg)/i.test(b.toString('latin1', 0, 256))) return 'script'
  if (ascii(b, '%PDF-')) return 'pdf'
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png'
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg'
  if (ascii(b, 'GIF87a') || ascii(b, 'GIF89a')) return 'gif'
  if (ascii(b, 'RIFF') && ascii(b, 'WEBP', 8)) return 'webp'
  if (ascii(b, 'RIFF') && ascii(b, 'WAVE', 8)) return 'wav'
  if (ascii(b, 'BM') && b.length > 14 && b.readUInt32LE(2) === b.length) return 'bmp'
  if (ascii(b, 'II*\0') || ascii(b, 'MM\0*')) return 'tiff'
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return 'zip'
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'ole'
  if (ascii(b, 'ID3') || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0)) return 'mp3'
  if (ascii(b, 'ftyp', 4)) return 'mp4'
  if (ascii(b, 'OggS')) return 'ogg'
  if (isText(b)) return 'text'
  return 'unknown'
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function isText(b: Buffer): boolean {
  if (b.includes(0)) return false
  try { utf8.decode(b); return true } catch { return false }
}

export interface ZipListing {
  names: string[]
  /** True when the central directory is missing, truncated or disagrees with the local headers. */
  corrupt: boolean
}

const MAX_ENTRIES = 10_000

/**
 * Entry names from the central directory, each checked against its local header
 * (a mismatch is a known trick to show scanners one name and extractors another).
 */
export function listZip(b: Buffer): ZipListing {
  const corrupt = { names: [], corrupt: true }
  const EOCD = 0x06054b50
  let eocd = -1
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) === EOCD) { eocd = i; break }
  }
  if (eocd < 0) return corrupt
  const count = b.readUInt16LE(eocd + 10)
  let at = b.readUInt32LE(eocd + 16)
  if (count === 0xffff || at === 0xffffffff || count > MAX_ENTRIES) return corrupt // ZIP64: not accepted
  const names: string[] = []
  for (let n = 0; n < count; n++) {
    if (at + 46 > b.length || b.readUInt32LE(at) !== 0x02014b50) return corrupt
    const nameLen = b.readUInt16LE(at + 28)
    const extraLen = b.readUInt16LE(at + 30)
    const commentLen = b.readUInt16LE(at + 32)
    const local = b.readUInt32LE(at + 42)
    if (at + 46 + nameLen > b.length) return corrupt
    const name = b.subarray(at + 46, at + 46 + nameLen)
    if (local + 30 > b.length || b.readUInt32LE(local) !== 0x04034b50) return corrupt
    const localLen = b.readUInt16LE(local + 26)
    if (!name.equals(b.subarray(local + 30, local + 30 + localLen))) return corrupt
    names.push(name.toString('utf8'))
    // Info-ZIP Unicode Path (0x7075): 7-Zip and unzip extract under THIS name, not the header's.
    const unicodePath = unicodePathOf(b.subarray(at + 46 + nameLen, Math.min(b.length, at + 46 + nameLen + extraLen)))
    if (unicodePath !== null) names.push(unicodePath)
    const localExtraLen = b.readUInt16LE(local + 28)
    const localPath = unicodePathOf(b.subarray(local + 30 + localLen, Math.min(b.length, local + 30 + localLen + localExtraLen)))
    if (localPath !== null) names.push(localPath)
    at += 46 + nameLen + extraLen + commentLen
  }
  return { names, corrupt: false }
}

/** The name in an Info-ZIP Unicode Path extra field (id 0x7075: version, CRC-32, UTF-8 name), if any. */
function unicodePathOf(extra: Buffer): string | null {
  for (let i = 0; i + 4 <= extra.length;) {
    const id = extra.readUInt16LE(i)
    const size = extra.readUInt16LE(i + 2)
    if (id === 0x7075 && size >= 5 && i + 4 + size <= extra.length) return extra.toString('utf8', i + 9, i + 4 + size)
    i += 4 + size
  }
  return null
}

const utf16 = (s: string) => Buffer.from(s, 'utf16le')
const VBA_PROJECT = utf16('_VBA_PROJECT')

/** OLE2 (doc/xls/ppt) stream names are UTF-16LE in the directory sectors. */
export function oleHasStream(b: Buffer, name: string): boolean {
  return b.includes(utf16(name))
}

export function oleHasMacros(b: Buffer): boolean {
  return b.includes(VBA_PROJECT)
}
