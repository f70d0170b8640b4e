// Translates a TF.js graph model (GraphDef JSON + dequantised float weights)
// into ONNX nodes on a GraphBuilder. Activations are NHWC in TensorFlow and
// NCHW in ONNX: 4-D values are kept NCHW on the ONNX side and axis-bearing ops
// are remapped. TF 'SAME' padding is emulated with explicit (possibly
// asymmetric) pads computed from the static spatial size, so the graph needs a
// fixed input resolution; only the batch dimension is symbolic.
import type { TfNodeDef } from './nsfwjs-source.ts';
import { attrInts, attrNumber, attrString, attrStrings, dataInputs, fail } from './tf-node-attrs.ts';
import { weightWriter, type WeightWriterOptions } from './tf-weights.ts';

/** A converted value: its ONNX name and TF-convention shape (-1 = batch). */
interface Value {
  name: string;
  /** Shape in TF convention (NHWC for 4-D); -1 marks the symbolic batch. */
  tfShape: number[];
}

export interface TfToOnnxOptions extends WeightWriterOptions {
  nodes: TfNodeDef[];
  /** TF placeholder name -> ONNX input already declared on the builder (NCHW for 4-D). */
  inputs: Record<string, { name: string; tfShape: number[] }>;
}

const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

/** TF 'SAME': output = ceil(in / stride); the odd extra pad goes after (bottom/right). */
export function samePads(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function convOutSize(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  pads: [number, number],
): number {
  const effective = (kernel - 1) * dilation + 1;
  return Math.floor((inSize + pads[0] + pads[1] - effective) / stride) + 1;
}

/**
 * Converts the nodes needed to compute `endpoints` and returns, for each
 * endpoint, its ONNX value name and TF shape.
 */
export function convertTfGraph(options: TfToOnnxOptions, endpoints: string[]): Record<string, Value> {
  const { builder: g } = options;
  const byName = new Map(options.nodes.map((n) => [n.name, n]));
  const values = new Map<string, Value>();
  for (const [tfName, v] of Object.entries(options.inputs))
    values.set(tfName, { name: v.name, tfShape: v.tfShape });
  const { constOf, emitWeight, convWeights } = weightWriter(options, byName);

  const onnxName = (tfName: string, suffix = ''): string => g.fresh(`${tfName}${suffix}`);

  /** A constant as an ONNX initializer laid out to broadcast against NCHW activations of the given rank. */
  const constForElementwise = (name: string, otherRank: number): Value => {
    const w = constOf(name);
    let dims = w.shape;
    if (otherRank === 4 && w.shape.length === 1 && w.shape[0] !== 1)
      dims = [w.shape[0], 1, 1]; // channel vector
    else if (otherRank === 4 && w.shape.length > 1)
      throw fail(`constant '${name}' of shape [${w.shape}] cannot be laid out for NCHW`);
    return { name: emitWeight(name, w, dims), tfShape: w.shape };
  };

  const requireNhwc = (node: TfNodeDef): void => {
    const format = attrString(node, 'data_format') ?? 'NHWC';
    if (format !== 'NHWC') throw fail(`${node.name}: data_format ${format} is not supported`);
  };

  const convert = (node: TfNodeDef, inputs: Value[]): Value => {
    const op = node.op;
    switch (op) {
      case 'Identity':
        return inputs[0];
      case 'Mul':
      case 'Sub':
      case 'AddV2':
      case 'Add':
      case 'RealDiv': {
        const names = dataInputs(node);
        const operands = names.map((n, i) => {
          const v = inputs[i];
          if (v) return v;
          const otherRank = inputs[1 - i]?.tfShape.length ?? 0;
          return constForElementwise(n, otherRank);
        });
        const onnxOp = { Mul: 'Mul', Sub: 'Sub', AddV2: 'Add', Add: 'Add', RealDiv: 'Div' }[op];
        const out = g.op(
          onnxOp,
          operands.map((o) => o.name),
          {},
          onnxName(node.name),
        );
        const tfShape =
          operands[0].tfShape.length >= operands[1].tfShape.length
            ? operands[0].tfShape
            : operands[1].tfShape;
        return { name: out, tfShape };
      }
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        requireNhwc(node);
        const depthwise = op.includes('Depthwise');
        const x = inputs[0];
        if (x.tfShape.length !== 4) throw fail(`${node.name}: input is not 4-D`);
        const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
        const dil = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
        const padding = attrString(node, 'padding');
        const { weights, group, outC, kh, kw } = convWeights(node, depthwise);
        const [, h, w] = x.tfShape;
        let padH: [number, number];
        let padW: [number, number];
        if (padding === 'SAME') {
          padH = samePads(h, kh, strides[1], dil[1]);
          padW = samePads(w, kw, strides[2], dil[2]);
        } else if (padding === 'VALID') {
          padH = [0, 0];
          padW = [0, 0];
        } else {
          throw fail(`${node.name}: padding ${padding} is not supported`);
        }
        const fused = attrStrings(node, 'fused_ops');
        const numArgs = attrNumber(node, 'num_args') ?? 0;
        const conv: string[] = [x.name, weights];
        let rest = fused;
        if (fused[0] === 'BiasAdd') {
          if (numArgs !== 1) throw fail(`${node.name}: BiasAdd with ${numArgs} extra args`);
          const b = constOf(dataInputs(node)[2]);
          if (b.data.length !== outC)
            throw fail(`${node.name}: bias has ${b.data.length} values for ${outC} channels`);
          conv.push(emitWeight(dataInputs(node)[2], b, [outC]));
          rest = fused.slice(1);
        } else if (fused.length > 0) {
          throw fail(`${node.name}: fused ops [${fused}] are not supported`);
        }
        let out = g.op(
          'Conv',
          conv,
          {
            kernel_shape: [kh, kw],
            strides: [strides[1], strides[2]],
            dilations: [dil[1], dil[2]],
            pads: [padH[0], padW[0], padH[1], padW[1]],
            group,
          },
          onnxName(node.name, rest.length ? '/conv' : ''),
        );
        for (const act of rest) out = activation(node, act, out, rest[rest.length - 1] === act);
        const oh = convOutSize(h, kh, strides[1], dil[1], padH);
        const ow = convOutSize(w, kw, strides[2], dil[2], padW);
        return { name: out, tfShape: [x.tfShape[0], oh, ow, outC] };
      }
      case 'Relu':
      case 'Relu6':
        return { name: activation(node, op, inputs[0].name, true), tfShape: inputs[0].tfShape };
      case 'AvgPool':
      case 'MaxPool': {
        requireNhwc(node);
        const x = inputs[0];
        const k = attrInts(node, 'ksize') ?? [];
        const s = attrInts(node, 'strides') ?? [];
        if (attrString(node, 'padding') !== 'VALID')
          throw fail(`${node.name}: only VALID pooling is supported`);
        const out = g.op(
          op === 'AvgPool' ? 'AveragePool' : 'MaxPool',
          [x.name],
          { kernel_shape: [k[1], k[2]], strides: [s[1], s[2]] },
          onnxName(node.name),
        );
        const oh = Math.floor((x.tfShape[1] - k[1]) / s[1]) + 1;
        const ow = Math.floor((x.tfShape[2] - k[2]) / s[2]) + 1;
        return { name: out, tfShape: [x.tfShape[0], oh, ow, x.tfShape[3]] };
      }
      case 'Squeeze': {
        const x = inputs[0];
        const dims = attrInts(node, 'squeeze_dims') ?? [];
        if (dims.length === 0) throw fail(`${node.name}: Squeeze without explicit dims`);
        const axes = dims.map((d) => (d < 0 ? d + x.tfShape.length : d));
        const onnxAxes = x.tfShape.length === 4 ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]) : axes;
        const axesName = g.initializer(
          g.fresh(`${node.name}/axes`),
          BigInt64Array.from(onnxAxes.map(BigInt)),
          [onnxAxes.length],
        );
        const out = g.op('Squeeze', [x.name, axesName], {}, onnxName(node.name));
        return { name: out, tfShape: x.tfShape.filter((_, i) => !axes.includes(i)) };
      }
      case 'Mean': {
        const x = inputs[0];
        const axesW = constOf(dataInputs(node)[1]);
        const keep = node.attr?.keep_dims?.b === true;
        const axes = Array.from(axesW.data, (a) => (a < 0 ? a + x.tfShape.length : a));
        const onnxAxes = x.tfShape.length === 4 ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]) : axes;
        if (x.tfShape.length === 4 && !keep && !(axes.includes(1) && axes.includes(2) && !axes.includes(3))) {
          throw fail(`${node.name}: Mean over axes [${axes}] without keep_dims changes the layout`);
        }
        const out = g.op(
          'ReduceMean',
          [x.name],
          { axes: onnxAxes, keepdims: keep ? 1 : 0 },
          onnxName(node.name),
        );
        return {
          name: out,
          tfShape: keep
            ? x.tfShape.map((d, i) => (axes.includes(i) ? 1 : d))
            : x.tfShape.filter((_, i) => !axes.includes(i)),
        };
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const x = inputs[0];
        if (x.tfShape.length !== 2) throw fail(`${node.name}: MatMul on a ${x.tfShape.length}-D input`);
        const w = constOf(dataInputs(node)[1]);
        const transA = node.attr?.transpose_a?.b === true;
        if (transA) throw fail(`${node.name}: transpose_a is not supported`);
        const transB = node.attr?.transpose_b?.b === true;
        const wName = emitWeight(dataInputs(node)[1], w, w.shape);
        const gemmInputs = [x.name, wName];
        const fused = attrStrings(node, 'fused_ops');
        let rest = fused;
        if (fused[0] === 'BiasAdd') {
          const b = constOf(dataInputs(node)[2]);
          gemmInputs.push(emitWeight(dataInputs(node)[2], b, b.shape));
          rest = fused.slice(1);
        }
        let out = g.op(
          'Gemm',
          gemmInputs,
          { transB: transB ? 1 : 0 },
          onnxName(node.name, rest.length ? '/gemm' : ''),
        );
        for (const act of rest) out = activation(node, act, out, rest[rest.length - 1] === act);
        return { name: out, tfShape: [x.tfShape[0], transB ? w.shape[0] : w.shape[1]] };
      }
      case 'Softmax': {
        const x = inputs[0];
        if (x.tfShape.length !== 2) throw fail(`${node.name}: Softmax on a ${x.tfShape.length}-D input`);
        return { name: g.op('Softmax', [x.name], { axis: -1 }, onnxName(node.name)), tfShape: x.tfShape };
      }
      default:
        throw fail(`op ${op} (node ${node.name}) is not supported`);
    }
  };

  let clipBounds: { lo: string; hi: string } | undefined;
  const activation = (node: TfNodeDef, act: string, input: string, last: boolean): string => {
    const name = last ? onnxName(node.name) : onnxName(node.name, `/${act}`);
    if (act === 'Relu') return g.op('Relu', [input], {}, name);
    if (act === 'Relu6') {
      const cachedLo = options.weightCache?.get('relu6/min');
      const cachedHi = options.weightCache?.get('relu6/max');
      clipBounds ??=
        cachedLo !== undefined && cachedHi !== undefined
          ? { lo: cachedLo, hi: cachedHi }
          : {
              lo: g.initializer(g.fresh('relu6/min'), Float32Array.from([0]), []),
              hi: g.initializer(g.fresh('relu6/max'), Float32Array.from([6]), []),
            };
      options.weightCache?.set('relu6/min', clipBounds.lo);
      options.weightCache?.set('relu6/max', clipBounds.hi);
      return g.op('Clip', [input, clipBounds.lo, clipBounds.hi], {}, name);
    }
    throw fail(`${node.name}: fused activation ${act} is not supported`);
  };

  // Depth-first, post-order, without recursion (graphs can be deep). A node is
  // "open" from its expansion until it is converted; reaching an open node again is a cycle.
  const visit = (root: string): Value => {
    const stack: { name: string; expanded: boolean }[] = [{ name: root, expanded: false }];
    const open = new Set<string>();
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (values.has(top.name)) {
        stack.pop();
        continue;
      }
      const node = byName.get(top.name);
      if (!node) throw fail(`node '${top.name}' does not exist`);
      if (node.op === 'Placeholder') throw fail(`placeholder '${node.name}' has no ONNX input`);
      if (!top.expanded) {
        top.expanded = true;
        open.add(top.name);
        for (const d of dataInputs(node)) {
          if (values.has(d) || byName.get(d)?.op === 'Const') continue;
          if (open.has(d)) throw fail(`cycle through '${d}'`);
          stack.push({ name: d, expanded: false });
        }
        continue;
      }
      const inputValues = dataInputs(node).map((d) => values.get(d)) as Value[];
      values.set(node.name, convert(node, inputValues));
      open.delete(top.name);
      stack.pop();
    }
    const v = values.get(root);
    if (!v) throw fail(`'${root}' could not be converted`);
    return v;
  };

  const result: Record<string, Value> = {};
  for (const e of endpoints) result[e] = visit(e);
  return result;
}
