// Minimal protobuf wire-format reader: each field with the byte range it
// occupies, so a message can be edited by copying the fields it keeps
// verbatim and re-encoding only the ones it changes (ONNX graph rewrites).
import { AgqgError } from '../errors.ts';

export const WIRE = { varint: 0, i64: 1, len: 2, i32: 5 } as const;

export interface ProtoField {
  no: number;
  wire: number;
  /** Byte range of the whole field (key included) in the buffer read. */
  start: number;
  end: number;
  /** The value of a varint field (exact below 2^53). */
  varint: number;
  /** The payload of a length-delimited field; empty for other wire types. */
  body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function truncated(what: string): AgqgError {
  return new AgqgError('pack_invalid', `ONNX model: truncated protobuf (${what})`);
}

/** The fields of one message, in order. */
export function* protoFields(buf: Uint8Array): Generator<ProtoField> {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw truncated('varint');
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const start = i;
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    let value = 0;
    let body: Uint8Array = EMPTY;
    if (wire === WIRE.varint) value = varint();
    else if (wire === WIRE.len) {
      const len = varint();
      if (i + len > buf.length) throw truncated(`field ${no}`);
      body = buf.subarray(i, i + len);
      i += len;
    } else if (wire === WIRE.i64) i += 8;
    else if (wire === WIRE.i32) i += 4;
    else
      throw new AgqgError('pack_invalid', `ONNX model: unsupported protobuf wire type ${wire} (field ${no})`);
    if (i > buf.length) throw truncated(`field ${no}`);
    yield { no, wire, start, end: i, varint: value, body };
  }
}

/** Values of a repeated varint field that may be packed (one length-delimited run) or not. */
export function repeatedVarints(fields: readonly ProtoField[], no: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.no !== no) continue;
    if (f.wire === WIRE.varint) out.push(f.varint);
    else if (f.wire === WIRE.len) for (const g of protoFields(prefixPacked(f.body))) out.push(g.varint);
  }
  return out;
}

/** A packed varint run re-read as a sequence of field-1 varints (key byte 0x08 before each). */
function prefixPacked(run: Uint8Array): Uint8Array {
  const out: number[] = [];
  let expectKey = true;
  for (const b of run) {
    if (expectKey) out.push(0x08);
    out.push(b);
    expectKey = b < 0x80;
  }
  return Uint8Array.from(out);
}

const utf8 = new TextDecoder();
export const protoString = (f: ProtoField): string => utf8.decode(f.body);
