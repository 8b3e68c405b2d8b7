/**
 * Test helpers: tiny, byte-exact tar / tar.gz / zip writers, written from the format specifications (POSIX
 * ustar headers; PKWARE APPNOTE local headers, central directory, end record; stored members only), so tests
 * can build archives the unpacker must refuse (`../` members, absolute paths, links leading out) that
 * well-behaved archivers will not produce.
 */
import zlib from 'node:zlib';

export interface ArchiveMember {
  name: string;
  /** File contents (a regular file when neither `dir` nor a link is given). */
  data?: Buffer | string;
  dir?: boolean;
  symlinkTo?: string;
  /** tar only: a hard link to another member. */
  hardlinkTo?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(m: ArchiveMember, size: number): Buffer {
  const h = Buffer.alloc(512);
  let name = m.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/');
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(m.dir ? 0o755 : 0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1_700_000_000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(m.dir ? '5' : m.symlinkTo !== undefined ? '2' : m.hardlinkTo !== undefined ? '1' : '0', 156, 'latin1');
  h.write(m.symlinkTo ?? m.hardlinkTo ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** An uncompressed tar archive. */
export function tarBytes(members: ArchiveMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const data = m.data === undefined || m.dir || m.symlinkTo !== undefined || m.hardlinkTo !== undefined ? Buffer.alloc(0) : Buffer.from(m.data);
    blocks.push(tarHeader(m, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function tgzBytes(members: ArchiveMember[]): Buffer {
  return zlib.gzipSync(tarBytes(members));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive with stored (uncompressed) members, UTF-8 names, Unix modes; `encrypted` sets the encryption flag bit. */
export function zipBytes(members: ArchiveMember[], o: { encrypted?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.dir && !m.name.endsWith('/') ? `${m.name}/` : m.name, 'utf8');
    const data = m.dir ? Buffer.alloc(0) : Buffer.from(m.symlinkTo ?? m.data ?? '');
    const mode = m.dir ? 0o040755 : m.symlinkTo !== undefined ? 0o120777 : 0o100644;
    const flags = 0x0800 | (o.encrypted ? 1 : 0);
    const crc = crc32(data);
    // Traditional PKWARE encryption puts a 12-byte header before the member's bytes.
    const stored = o.encrypted ? Buffer.concat([Buffer.alloc(12, 0x5a), data]) : data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
