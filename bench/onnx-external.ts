// Makes a weightless graph (../shared/fixtures/clip-vit-b32-graphs, whose
// initializers live in external data files that are not there) runnable for
// timing: every external initializer becomes inline raw_data with seeded
// random values. Only the protobuf fields needed are decoded (onnx.proto:
// ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.data_type = 2,
// name = 8, raw_data = 9, external_data = 13 {key = 1, value = 2},
// data_location = 14), with the project's protobuf reader.
import { readFileSync } from 'node:fs';
import { protoFields, protoString, WIRE, type ProtoField } from '../src/model/onnx/proto-reader.ts';

const DATA_LOCATION_EXTERNAL = 1;
const ONNX_FLOAT = 1;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;

interface ExternalInitializer {
  name: string;
  dataType: number;
  length: number;
}

function readTensor(bytes: Uint8Array): ExternalInitializer | null {
  let name = '';
  let dataType = 0;
  let external = false;
  const kv: Record<string, string> = {};
  for (const f of protoFields(bytes)) {
    if (f.no === 2 && f.wire === WIRE.varint) dataType = f.varint;
    else if (f.no === 8 && f.wire === WIRE.len) name = protoString(f);
    else if (f.no === TENSOR_DATA_LOCATION && f.wire === WIRE.varint)
      external = f.varint === DATA_LOCATION_EXTERNAL;
    else if (f.no === TENSOR_EXTERNAL_DATA && f.wire === WIRE.len) {
      let k = '';
      let v = '';
      for (const e of protoFields(f.body)) {
        if (e.no === 1) k = protoString(e);
        if (e.no === 2) v = protoString(e);
      }
      kv[k] = v;
    }
  }
  if (!external) return null;
  if (kv.length === undefined) throw new Error(`initializer ${name}: external_data without a length`);
  return { name, dataType, length: Number(kv.length) };
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
  return [Uint8Array.from([...varintBytes(no * 8 + WIRE.len), ...varintBytes(len)]), ...parts];
}

const whole = (buf: Uint8Array, f: ProtoField): Uint8Array => buf.subarray(f.start, f.end);

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
  for (const f of protoFields(model)) {
    if (f.no !== 7 || f.wire !== WIRE.len) {
      out.push(whole(model, f));
      continue;
    }
    const graph: Uint8Array[] = [];
    for (const g of protoFields(f.body)) {
      const t = g.no === 5 && g.wire === WIRE.len ? readTensor(g.body) : null;
      if (!t) {
        graph.push(whole(f.body, g));
        continue;
      }
      const kept: Uint8Array[] = [];
      for (const h of protoFields(g.body)) {
        if (h.no !== TENSOR_EXTERNAL_DATA && h.no !== TENSOR_DATA_LOCATION) kept.push(whole(g.body, h));
      }
      const bytes = new Uint8Array(t.length);
      if (t.dataType === ONNX_FLOAT) fill(new Float32Array(bytes.buffer));
      graph.push(...lenField(5, [...kept, ...lenField(TENSOR_RAW_DATA, [bytes])]));
    }
    out.push(...lenField(7, graph));
  }
  return out;
}
