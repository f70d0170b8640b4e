// Dynamic int8 quantization of an ONNX graph's MatMul weights, the q8
// variant Hugging Face publishes as *_quantized.onnx (onnxruntime's
// quantize_dynamic): each MatMul whose right operand is a large float32
// initializer becomes DynamicQuantizeLinear(A) -> MatMulInteger -> Cast ->
// Mul(A scale x column scales), a pattern onnxruntime fuses into one int8
// kernel on CPU and WASM. Weights are quantized per output column,
// symmetric, so a column's error is at most half its step. They are stored
// as uint8 around a zero point of 128, not as int8: onnxruntime's x86 AVX2
// kernel for uint8 x int8 adds pairs of products in saturating 16-bit lanes,
// which measurably corrupts outputs (off by 11% in test/quantize.test.ts),
// while its uint8 x uint8 kernel does not saturate.
import { AgqgError } from '../errors.ts';
import { ProtoWriter } from './protobuf.ts';
import { protoFields, protoString, repeatedVarints, WIRE, type ProtoField } from './proto-reader.ts';

const ONNX_FLOAT = 1;
const ONNX_UINT8 = 2;
/** uint8 zero point of the symmetric weights. */
const WEIGHT_ZERO_POINT = 128;
const ATTR_INT = 2;
const INT8_MAX = 127;
/** Below this many weights a MatMul stays float: quantizing it saves little and costs a DynamicQuantizeLinear. */
export const DEFAULT_MIN_WEIGHTS = 4096;
/** DynamicQuantizeLinear appeared in opset 11. */
const MIN_OPSET = 11;

export interface QuantizeOptions {
  minWeights?: number;
}

export interface QuantizeReport {
  bytes: Uint8Array;
  /** MatMul nodes rewritten, and those left float (too small, shared, non-constant right operand). */
  quantized: number;
  kept: number;
  floatBytesBefore: number;
  int8Bytes: number;
}

interface Initializer {
  field: ProtoField;
  name: string;
  dataType: number;
  dims: number[];
  /** float32 values when stored inline (raw_data or float_data). */
  values: Float32Array | null;
}

interface NodeView {
  field: ProtoField;
  inputs: string[];
  outputs: string[];
  name: string;
  op: string;
  domain: string;
}

function readInitializer(field: ProtoField): Initializer {
  const fs = [...protoFields(field.body)];
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | null = null;
  let floats: Uint8Array | null = null;
  for (const f of fs) {
    if (f.no === 8) name = protoString(f);
    else if (f.no === 2) dataType = f.varint;
    else if (f.no === 9) raw = f.body;
    else if (f.no === 4 && f.wire === WIRE.len) floats = f.body;
  }
  const dims = repeatedVarints(fs, 1);
  const bytes = raw ?? floats;
  let values: Float32Array | null = null;
  if (dataType === ONNX_FLOAT && bytes && bytes.byteLength % 4 === 0) {
    // Copied: raw_data need not be 4-byte aligned inside the model buffer.
    values = new Float32Array(bytes.slice().buffer);
  }
  return { field, name, dataType, dims, values };
}

function readNode(field: ProtoField): NodeView {
  const node: NodeView = { field, inputs: [], outputs: [], name: '', op: '', domain: '' };
  for (const f of protoFields(field.body)) {
    if (f.no === 1) node.inputs.push(protoString(f));
    else if (f.no === 2) node.outputs.push(protoString(f));
    else if (f.no === 3) node.name = protoString(f);
    else if (f.no === 4) node.op = protoString(f);
    else if (f.no === 7) node.domain = protoString(f);
  }
  return node;
}

function defaultOpset(model: Uint8Array): number {
  for (const f of protoFields(model)) {
    if (f.no !== 8) continue;
    let domain = '';
    let version = 0;
    for (const g of protoFields(f.body)) {
      if (g.no === 1) domain = protoString(g);
      else if (g.no === 2) version = g.varint;
    }
    if (domain === '' || domain === 'ai.onnx') return version;
  }
  return 0;
}

function tensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): ProtoWriter {
  return new ProtoWriter().packedVarints(1, dims).varint(2, dataType).string(8, name).bytes(9, raw);
}

function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Record<string, number> = {},
): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs))
    w.message(5, new ProtoWriter().string(1, k).varint(3, v).varint(20, ATTR_INT));
  return w;
}

/** Per-column symmetric 8-bit: W[k,n] ~ (q[k,n] - 128) * scale[n], q in [1, 255]. */
export function quantizeColumns(
  w: Float32Array,
  rows: number,
  cols: number,
): { q: Uint8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let k = 0; k < rows; k++) {
    for (let n = 0; n < cols; n++) scale[n] = Math.max(scale[n], Math.abs(w[k * cols + n]));
  }
  for (let n = 0; n < cols; n++) scale[n] = scale[n] > 0 ? scale[n] / INT8_MAX : 1;
  const q = new Uint8Array(rows * cols);
  for (let k = 0; k < rows; k++) {
    for (let n = 0; n < cols; n++) {
      const v = Math.round(w[k * cols + n] / scale[n]);
      q[k * cols + n] = WEIGHT_ZERO_POINT + Math.max(-INT8_MAX, Math.min(INT8_MAX, v));
    }
  }
  return { q, scale };
}

/** The q8 variant of a float32 ONNX model (see the file comment). */
export function quantizeDynamicInt8(model: Uint8Array, opts: QuantizeOptions = {}): QuantizeReport {
  const minWeights = opts.minWeights ?? DEFAULT_MIN_WEIGHTS;
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) {
    throw new AgqgError(
      'invalid_argument',
      `int8 quantization needs opset ${MIN_OPSET} or later (DynamicQuantizeLinear); this model imports opset ${opset}`,
    );
  }
  const modelFields = [...protoFields(model)];
  const graphField = modelFields.find((f) => f.no === 7);
  if (!graphField) throw new AgqgError('pack_invalid', 'ONNX model has no graph');
  const graphFields = [...protoFields(graphField.body)];

  const inits = new Map<string, Initializer>();
  for (const f of graphFields)
    if (f.no === 5) {
      const t = readInitializer(f);
      inits.set(t.name, t);
    }
  const graphInputs = new Set(
    graphFields
      .filter((f) => f.no === 11)
      .map((f) => protoString([...protoFields(f.body)].find((g) => g.no === 1) as ProtoField)),
  );
  const nodes = graphFields.filter((f) => f.no === 1).map(readNode);
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);

  const quantizable = (n: NodeView): Initializer | null => {
    if (n.op !== 'MatMul' || n.domain !== '' || n.inputs.length !== 2) return null;
    const w = inits.get(n.inputs[1]);
    if (!w || !w.values || w.dims.length !== 2 || graphInputs.has(w.name)) return null;
    if (w.values.length < minWeights || w.values.length !== w.dims[0] * w.dims[1]) return null;
    return w;
  };

  const graph = new ProtoWriter();
  const dropped = new Set<string>();
  const newInits: ProtoWriter[] = [];
  const quantizedWeights = new Map<string, { q: string; scale: string; zp: string }>();
  const activations = new Map<string, { q: string; scale: string; zp: string }>();
  let quantized = 0;
  let kept = 0;
  let floatBytesBefore = 0;
  let int8Bytes = 0;
  let serial = 0;
  const rewritten = new Map<ProtoField, ProtoWriter[]>();
  for (const n of nodes) {
    const w = quantizable(n);
    if (!w) {
      if (n.op === 'MatMul') kept++;
      continue;
    }
    const [rows, cols] = w.dims;
    let wq = quantizedWeights.get(w.name);
    if (!wq) {
      const { q, scale } = quantizeColumns(w.values as Float32Array, rows, cols);
      wq = { q: `${w.name}_quantized`, scale: `${w.name}_scale`, zp: `${w.name}_zero_point` };
      newInits.push(tensor(wq.q, ONNX_UINT8, [rows, cols], q));
      newInits.push(tensor(wq.scale, ONNX_FLOAT, [cols], new Uint8Array(scale.buffer)));
      newInits.push(tensor(wq.zp, ONNX_UINT8, [cols], new Uint8Array(cols).fill(WEIGHT_ZERO_POINT)));
      quantizedWeights.set(w.name, wq);
      floatBytesBefore += w.values?.byteLength ?? 0;
      int8Bytes += q.byteLength;
    }
    const out: ProtoWriter[] = [];
    const a = n.inputs[0];
    let aq = activations.get(a);
    const id = `${n.name || 'MatMul'}_q8_${serial++}`;
    if (!aq) {
      aq = { q: `${id}_a_quantized`, scale: `${id}_a_scale`, zp: `${id}_a_zero_point` };
      out.push(node('DynamicQuantizeLinear', [a], [aq.q, aq.scale, aq.zp], `${id}_DynamicQuantizeLinear`));
      activations.set(a, aq);
    }
    out.push(node('Mul', [aq.scale, wq.scale], [`${id}_scale`], `${id}_ScaleMul`));
    out.push(node('MatMulInteger', [aq.q, wq.q, aq.zp, wq.zp], [`${id}_int32`], `${id}_MatMulInteger`));
    out.push(node('Cast', [`${id}_int32`], [`${id}_float`], `${id}_Cast`, { to: ONNX_FLOAT }));
    out.push(node('Mul', [`${id}_float`, `${id}_scale`], n.outputs, `${id}_OutputMul`));
    rewritten.set(n.field, out);
    uses.set(w.name, (uses.get(w.name) ?? 1) - 1);
    quantized++;
  }
  for (const [name, count] of uses) if (count <= 0 && quantizedWeights.has(name)) dropped.add(name);

  for (const f of graphFields) {
    if (f.no === 1 && rewritten.has(f)) {
      for (const w of rewritten.get(f) as ProtoWriter[]) graph.message(1, w);
    } else if (f.no === 5 && dropped.has(readInitializerName(f))) {
      continue;
    } else {
      // Every GraphProto field is a message or a string.
      if (f.wire !== WIRE.len)
        throw new AgqgError('pack_invalid', `ONNX graph field ${f.no} is not length-delimited`);
      graph.bytes(f.no, f.body);
    }
  }
  for (const t of newInits) graph.message(5, t);

  const out = new ProtoWriter();
  for (const f of modelFields) {
    if (f.no === 7) out.message(7, graph);
    else if (f.wire === WIRE.len) out.bytes(f.no, f.body);
    else if (f.wire === WIRE.varint) out.varint(f.no, f.varint);
    else
      throw new AgqgError('pack_invalid', `ONNX model field ${f.no} has an unexpected wire type ${f.wire}`);
  }
  return { bytes: out.finish(), quantized, kept, floatBytesBefore, int8Bytes };
}

function readInitializerName(f: ProtoField): string {
  for (const g of protoFields(f.body)) if (g.no === 8) return protoString(g);
  return '';
}
