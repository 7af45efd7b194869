import { crc32 } from 'node:zlib'

/** An Info-ZIP Unicode Path extra field (0x7075) naming the entry `name`. */
function unicodePathField(headerName: Buffer, name: string): Buffer {
  const utf8 = Buffer.from(name)
  const field = Buffer.alloc(9 + utf8.length)
  field.writeUInt16LE(0x7075, 0); field.writeUInt16LE(5 + utf8.length, 2); field.writeUInt8(1, 4); field.writeUInt32LE(crc32(headerName), 5)
  utf8.copy(field, 9)
  return field
}

/**
 * A minimal stored (uncompressed) ZIP, for attachment sniffing tests. `centralNames` forges a
 * central-directory name; `unicodePaths` adds an Info-ZIP Unicode Path field (the name
 * 7-Zip and unzip extract under) to both headers.
 */
export function makeZip(files: Record<string, string | Buffer>, opts: { centralNames?: Record<string, string>; unicodePaths?: Record<string, string> } = {}): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
    const nameBuf = Buffer.from(name)
    const extra = opts.unicodePaths?.[name] ? unicodePathField(nameBuf, opts.unicodePaths[name]) : Buffer.alloc(0)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4)
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBuf.length, 26); local.writeUInt16LE(extra.length, 28)
    locals.push(local, nameBuf, extra, data)
    const cName = Buffer.from(opts.centralNames?.[name] ?? name)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6)
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(cName.length, 28); central.writeUInt16LE(extra.length, 30); central.writeUInt32LE(offset, 42)
    centrals.push(central, cName, extra)
    offset += 30 + nameBuf.length + extra.length + data.length
  }
  const cd = Buffer.concat(centrals)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(Object.keys(files).length, 8); eocd.writeUInt16LE(Object.keys(files).length, 10)
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, eocd])
}
