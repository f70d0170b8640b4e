// A minimal ZIP (PKWARE APPNOTE 6.3) writer and reader for packs: entries are
// stored, not deflated (ONNX weights barely compress and a pack is read once),
// which keeps both sides a few dozen lines with no dependency. The reader takes
// stored entries only and says so for anything else.
import { AgqgError } from '../errors.ts';

export interface ZipEntry {
  path: string;
  bytes: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
/** Bit 11: names are UTF-8. */
const UTF8_FLAG = 0x0800;
const ZIP32_LIMIT = 0xffffffff;

export function zipStore(entries: readonly ZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const names = entries.map((e) => enc.encode(e.path));
  const crcs = entries.map((e) => crc32(e.bytes));
  let size = 22;
  for (const [i, e] of entries.entries())
    size += 30 + names[i].length + e.bytes.length + 46 + names[i].length;
  if (size > ZIP32_LIMIT || entries.length > 0xffff) {
    throw new AgqgError(
      'invalid_argument',
      'the pack is too large for a ZIP file without ZIP64: export it as a folder',
    );
  }
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const offsets: number[] = [];
  let p = 0;
  for (const [i, e] of entries.entries()) {
    offsets.push(p);
    v.setUint32(p, LOCAL_SIG, true);
    v.setUint16(p + 4, 20, true);
    v.setUint16(p + 6, UTF8_FLAG, true);
    v.setUint16(p + 8, 0, true); // stored
    v.setUint32(p + 14, crcs[i], true);
    v.setUint32(p + 18, e.bytes.length, true);
    v.setUint32(p + 22, e.bytes.length, true);
    v.setUint16(p + 26, names[i].length, true);
    out.set(names[i], p + 30);
    out.set(e.bytes, p + 30 + names[i].length);
    p += 30 + names[i].length + e.bytes.length;
  }
  const central = p;
  for (const [i, e] of entries.entries()) {
    v.setUint32(p, CENTRAL_SIG, true);
    v.setUint16(p + 4, 20, true);
    v.setUint16(p + 6, 20, true);
    v.setUint16(p + 8, UTF8_FLAG, true);
    v.setUint32(p + 16, crcs[i], true);
    v.setUint32(p + 20, e.bytes.length, true);
    v.setUint32(p + 24, e.bytes.length, true);
    v.setUint16(p + 28, names[i].length, true);
    v.setUint32(p + 42, offsets[i], true);
    out.set(names[i], p + 46);
    p += 46 + names[i].length;
  }
  v.setUint32(p, END_SIG, true);
  v.setUint16(p + 8, entries.length, true);
  v.setUint16(p + 10, entries.length, true);
  v.setUint32(p + 12, p - central, true);
  v.setUint32(p + 16, central, true);
  return out;
}

/** Entries of a ZIP with stored entries, by the central directory; each is checked against its CRC-32. */
export function unzipStore(zip: Uint8Array, where = 'ZIP file'): ZipEntry[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  for (let p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 0xffff); p--) {
    if (v.getUint32(p, true) === END_SIG) {
      end = p;
      break;
    }
  }
  if (end < 0)
    throw new AgqgError('pack_invalid', `${where} is not a ZIP file (no end of central directory)`);
  const count = v.getUint16(end + 10, true);
  let p = v.getUint32(end + 16, true);
  const dec = new TextDecoder();
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > zip.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw new AgqgError('pack_invalid', `${where}: its central directory is damaged`);
    }
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const csize = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const local = v.getUint32(p + 42, true);
    const path = dec.decode(zip.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (path.endsWith('/')) continue;
    if (method !== 0) {
      throw new AgqgError(
        'pack_invalid',
        `${where}: ${path} is compressed (method ${method}); only stored entries are read: unzip it and load the folder`,
      );
    }
    const data = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const bytes = zip.subarray(data, data + csize);
    if (bytes.length !== csize || crc32(bytes) !== crc) {
      throw new AgqgError('pack_invalid', `${where}: ${path} is truncated or damaged (CRC-32 mismatch)`);
    }
    out.push({ path, bytes });
  }
  return out;
}
