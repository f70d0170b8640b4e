// A tiny ONNX graph builder that serialises straight to ModelProto bytes, so
// packs can be built (and tested) without Python or the onnx package.
// Field numbers follow onnx/onnx.proto.
import { AgqgError } from '../errors.ts';
import { littleEndianBytes, ProtoWriter } from './protobuf.ts';

export type OnnxElemType = 'float32' | 'int64' | 'int32' | 'uint8';
/** A dimension: a fixed size, or a symbolic name (e.g. 'batch'). */
export type OnnxDim = number | string;

export type OnnxTensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensorData; dims: readonly number[] };

/** Plain numbers/number arrays mean INT/INTS (they must be integers); floats need attr.float(s). */
export type OnnxAttrInput = OnnxAttr | number | readonly number[] | string;

export const attr = {
  int: (value: number): OnnxAttr => ({ kind: 'int', value }),
  float: (value: number): OnnxAttr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttr => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttr => ({ kind: 'string', value }),
  tensor: (value: OnnxTensorData, dims: readonly number[]): OnnxAttr => ({ kind: 'tensor', value, dims }),
};

// onnx.proto TensorProto.DataType
const DATA_TYPE: Record<OnnxElemType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7 };
// onnx.proto AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
/** IR version 8 is the one that goes with opsets 14..18 (onnx/docs/Versioning.md). */
const IR_VERSION = 8;

interface ValueInfo {
  name: string;
  type: OnnxElemType;
  dims: readonly OnnxDim[];
}

interface Initializer {
  name: string;
  type: OnnxElemType;
  dims: readonly number[];
  data: OnnxTensorData;
}

interface NodeDef {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Record<string, OnnxAttr>;
  name: string;
}

export interface ModelOptions {
  opset: number;
  producer: string;
  producerVersion?: string;
  docString?: string;
  /** ModelProto.metadata_props, readable from onnxruntime's session metadata. */
  metadata?: Record<string, string>;
  graphName?: string;
}

function elemTypeOf(data: OnnxTensorData): OnnxElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

function bad(message: string): AgqgError {
  return new AgqgError('internal', `ONNX graph: ${message}`);
}

function checkDims(what: string, dims: readonly number[], length: number): void {
  for (const d of dims)
    if (!Number.isInteger(d) || d < 0) throw bad(`${what}: bad dimension ${d} in [${dims.join(',')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== length)
    throw bad(`${what}: dims [${dims.join(',')}] hold ${count} values but the data has ${length}`);
}

function normaliseAttr(name: string, value: OnnxAttrInput): OnnxAttr {
  if (typeof value === 'string') return { kind: 'string', value };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw bad(`attribute ${name}=${value} is not an integer; use attr.float()`);
    return { kind: 'int', value };
  }
  if (Array.isArray(value)) {
    const list = value as readonly number[];
    if (!list.every((v) => Number.isInteger(v)))
      throw bad(`attribute ${name} has non-integers; use attr.floats()`);
    return { kind: 'ints', value: list };
  }
  return value as OnnxAttr;
}

function tensorProto(name: string, dims: readonly number[], data: OnnxTensorData): ProtoWriter {
  const w = new ProtoWriter();
  w.packedVarints(1, dims); // dims
  w.varint(2, DATA_TYPE[elemTypeOf(data)]); // data_type
  if (name) w.string(8, name); // name
  w.bytes(9, littleEndianBytes(data)); // raw_data
  return w;
}

function attributeProto(name: string, a: OnnxAttr): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  w.varint(20, ATTR_TYPE[a.kind]); // type
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.varint(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      checkDims(`attribute ${name}`, a.dims, a.value.length);
      w.message(5, tensorProto('', a.dims, a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedVarints(8, a.value);
      break;
  }
  return w;
}

function valueInfoProto(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number')
      dim.varint(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, DATA_TYPE[v.type]).message(2, shape); // elem_type, shape
  const typeProto = new ProtoWriter().message(1, tensorType); // tensor_type
  return new ProtoWriter().string(1, v.name).message(2, typeProto);
}

export class GraphBuilder {
  private inputs: ValueInfo[] = [];
  private outputs: ValueInfo[] = [];
  private initializers: Initializer[] = [];
  private nodes: NodeDef[] = [];
  /** Every value name defined so far (graph inputs, initializers, node outputs). */
  private defined = new Set<string>();
  private nameCounter = 0;

  private define(name: string, what: string): void {
    if (!name) throw bad(`${what} needs a name`);
    if (this.defined.has(name)) throw bad(`${what} '${name}' is defined twice`);
    this.defined.add(name);
  }

  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** A value name not used yet, derived from hint. */
  fresh(hint: string): string {
    let name = hint;
    while (this.defined.has(name)) name = `${hint}__${++this.nameCounter}`;
    return name;
  }

  input(name: string, type: OnnxElemType, dims: readonly OnnxDim[]): string {
    this.define(name, 'input');
    this.inputs.push({ name, type, dims });
    return name;
  }

  initializer(name: string, data: OnnxTensorData, dims: readonly number[]): string {
    this.define(name, 'initializer');
    checkDims(`initializer ${name}`, dims, data.length);
    this.initializers.push({ name, type: elemTypeOf(data), dims, data });
    return name;
  }

  /** Adds a node; '' in inputs marks an omitted optional input. Returns the outputs. */
  node(
    op: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Record<string, OnnxAttrInput> = {},
    name?: string,
  ): readonly string[] {
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) throw bad(`${op} node reads '${i}', which is not defined yet`);
    }
    if (outputs.length === 0) throw bad(`${op} node has no outputs`);
    for (const o of outputs) this.define(o, `output of ${op}`);
    const normalised: Record<string, OnnxAttr> = {};
    for (const [k, v] of Object.entries(attrs)) normalised[k] = normaliseAttr(k, v);
    this.nodes.push({ op, inputs, outputs, attrs: normalised, name: name ?? `${op}_${this.nodes.length}` });
    return outputs;
  }

  /** Node with a single, freshly named output; returns that name. */
  op(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, OnnxAttrInput> = {},
    hint?: string,
  ): string {
    const out = this.fresh(hint ?? `${op.toLowerCase()}_${this.nodes.length}`);
    this.node(op, inputs, [out], attrs);
    return out;
  }

  output(name: string, type: OnnxElemType, dims: readonly OnnxDim[]): void {
    if (!this.defined.has(name)) throw bad(`output '${name}' is never produced`);
    if (this.outputs.some((o) => o.name === name)) throw bad(`output '${name}' is declared twice`);
    this.outputs.push({ name, type, dims });
  }

  toBytes(options: ModelOptions): Uint8Array {
    if (this.outputs.length === 0) throw bad('the graph has no outputs');
    if (!Number.isInteger(options.opset) || options.opset < 1) throw bad(`bad opset ${options.opset}`);
    const graph = new ProtoWriter();
    for (const n of this.nodes) {
      const node = new ProtoWriter();
      for (const i of n.inputs) node.string(1, i);
      for (const o of n.outputs) node.string(2, o);
      node.string(3, n.name);
      node.string(4, n.op);
      for (const [k, v] of Object.entries(n.attrs)) node.message(5, attributeProto(k, v));
      graph.message(1, node);
    }
    graph.string(2, options.graphName ?? 'main');
    for (const init of this.initializers) graph.message(5, tensorProto(init.name, init.dims, init.data));
    for (const i of this.inputs) graph.message(11, valueInfoProto(i));
    for (const o of this.outputs) graph.message(12, valueInfoProto(o));

    const model = new ProtoWriter();
    model.varint(1, IR_VERSION);
    model.string(2, options.producer);
    if (options.producerVersion) model.string(3, options.producerVersion);
    if (options.docString) model.string(6, options.docString);
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, '').varint(2, options.opset)); // default domain
    for (const [key, value] of Object.entries(options.metadata ?? {})) {
      model.message(14, new ProtoWriter().string(1, key).string(2, value));
    }
    return model.finish();
  }
}
