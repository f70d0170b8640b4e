// Reads which initializers of an ONNX graph live in external data (name,
// dtype, file, offset, length) and writes such a file with random values, so
// a weightless graph (../shared/fixtures/clip-vit-b32-graphs) can be run for
// timing. Only the protobuf fields needed for that are decoded (onnx.proto:
// ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.data_type = 2,
// name = 8, external_data = 13 {key = 1, value = 2}, data_location = 14).
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const DATA_LOCATION_EXTERNAL = 1;
export const ONNX_FLOAT = 1;

interface Field {
  no: number;
  wire: number;
  /** Varint value, or the bytes of a length-delimited field. */
  value: number | Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE_VARINT) yield { no, wire, value: varint() };
    else if (wire === WIRE_LEN) {
      const len = varint();
      if (i + len > buf.length) throw new Error(`field ${no} runs past the end of its message`);
      yield { no, wire, value: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === WIRE_I64) i += 8;
    else if (wire === WIRE_I32) i += 4;
    else throw new Error(`unsupported wire type ${wire} (field ${no})`);
  }
}

const utf8 = new TextDecoder();

export interface ExternalInitializer {
  name: string;
  dataType: number;
  location: string;
  offset: number;
  length: number;
}

function readTensor(bytes: Uint8Array): ExternalInitializer | null {
  let name = '';
  let dataType = 0;
  let external = false;
  const kv: Record<string, string> = {};
  for (const f of fields(bytes)) {
    if (f.no === 2 && f.wire === WIRE_VARINT) dataType = f.value as number;
    else if (f.no === 8 && f.wire === WIRE_LEN) name = utf8.decode(f.value as Uint8Array);
    else if (f.no === 14 && f.wire === WIRE_VARINT) external = f.value === DATA_LOCATION_EXTERNAL;
    else if (f.no === 13 && f.wire === WIRE_LEN) {
      let k = '';
      let v = '';
      for (const e of fields(f.value as Uint8Array)) {
        if (e.no === 1) k = utf8.decode(e.value as Uint8Array);
        if (e.no === 2) v = utf8.decode(e.value as Uint8Array);
      }
      kv[k] = v;
    }
  }
  if (!external) return null;
  if (!kv.location || kv.length === undefined) throw new Error(`initializer ${name}: external_data without location or length`);
  return { name, dataType, location: kv.location, offset: Number(kv.offset ?? 0), length: Number(kv.length) };
}

/** xorshift32 + Box-Muller: seeded, fast enough for a few hundred MB. */
function normalFiller(seed: number, std: number): (out: Float32Array) => void {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 1) / 4294967297;
  };
  return (out) => {
    for (let i = 0; i < out.length; i += 2) {
      const r = std * Math.sqrt(-2 * Math.log(u()));
      const t = 2 * Math.PI * u();
      out[i] = r * Math.cos(t);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
    }
  };
}

/** A protobuf field with the byte range it occupies (key included), for copying it unchanged. */
interface Span {
  no: number;
  wire: number;
  start: number;
  end: number;
  /** Payload of a length-delimited field. */
  body: Uint8Array | null;
}

function* spans(buf: Uint8Array): Generator<Span> {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
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
    let body: Uint8Array | null = null;
    if (wire === WIRE_VARINT) varint();
    else if (wire === WIRE_LEN) {
      const len = varint();
      body = buf.subarray(i, i + len);
      i += len;
    } else if (wire === WIRE_I64) i += 8;
    else if (wire === WIRE_I32) i += 4;
    else throw new Error(`unsupported wire type ${wire} (field ${no})`);
    yield { no, wire, start, end: i, body };
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field: key, length, payload parts. */
function lenField(no: number, parts: readonly Uint8Array[]): Uint8Array[] {
  const len = parts.reduce((s, p) => s + p.length, 0);
  return [Uint8Array.from([...varintBytes(no * 8 + WIRE_LEN), ...varintBytes(len)]), ...parts];
}

const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;

/**
 * The graph at `modelPath` with every external initializer made inline
 * (raw_data holding N(0, std) float32 values, zeros for other types): one
 * self-contained .onnx file, as Hugging Face's CLIP exports under 2 GB are,
 * loadable from bytes by onnxruntime-web, onnxruntime-node and transformers.js.
 */
export function inlineRandomWeights(modelPath: string, std: number, seed: number): Uint8Array[] {
  const model = new Uint8Array(readFileSync(modelPath));
  const fill = normalFiller(seed, std);
  const out: Uint8Array[] = [];
  for (const f of spans(model)) {
    if (f.no !== 7 || f.wire !== WIRE_LEN || !f.body) {
      out.push(model.subarray(f.start, f.end));
      continue;
    }
    const graph: Uint8Array[] = [];
    for (const g of spans(f.body)) {
      const t = g.no === 5 && g.wire === WIRE_LEN && g.body ? readTensor(g.body) : null;
      if (!t || !g.body) {
        graph.push(f.body.subarray(g.start, g.end));
        continue;
      }
      const kept: Uint8Array[] = [];
      for (const h of spans(g.body)) {
        if (h.no !== TENSOR_EXTERNAL_DATA && h.no !== TENSOR_DATA_LOCATION) kept.push(g.body.subarray(h.start, h.end));
      }
      const bytes = new Uint8Array(t.length);
      if (t.dataType === ONNX_FLOAT) fill(new Float32Array(bytes.buffer));
      graph.push(...lenField(5, [...kept, ...lenField(TENSOR_RAW_DATA, [bytes])]));
    }
    out.push(...lenField(7, graph));
  }
  return out;
}
