// Test inputs: real AGIQA-3K images with their prompts, and crafted bad files.
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { parseCsvTable } from '../src/model/util/csv.ts';
import { sharedPath } from '../test/shared.ts';
import { AGIQA } from './env.ts';
import type { FilePayload } from './pages/grader-page.ts';

export interface LabelledImage {
  name: string;
  prompt: string;
  path: string;
}

/** `count` images of labels.csv, spread over the file (every k-th row) so several generators appear. */
export function agiqaImages(count: number): LabelledImage[] {
  const { rows } = parseCsvTable(readFileSync(sharedPath(AGIQA, 'labels.csv'), 'utf8'), 'labels.csv');
  const step = Math.max(1, Math.floor(rows.length / count));
  return Array.from({ length: count }, (_, i) => rows[i * step]).map((r) => ({
    name: r.name,
    prompt: r.prompt,
    path: sharedPath(AGIQA, 'images', r.name),
  }));
}

export function payload(name: string, buffer: Buffer, mimeType = 'application/octet-stream'): FilePayload {
  return { name, buffer, mimeType };
}

export function csvOf(images: LabelledImage[]): FilePayload {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const text = ['name,prompt', ...images.map((im) => `${q(im.name)},${q(im.prompt)}`)].join('\n');
  return payload('prompts.csv', Buffer.from(text), 'text/csv');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid PNG of width x height black pixels (1-bit greyscale): a real
 * decompression bomb, a few KB on disk, width*height bytes once decoded to RGBA x4.
 */
export function blackPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = 1 + Math.ceil(width / 8); // filter byte + packed bits
  const raw = Buffer.alloc(row * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
