// How the TF graph's constants become ONNX initializers: float32, or uint8
// codes plus their 256-entry table; weights already written into the builder
// (weightCache) are reused, so several branches share one copy.
import type { GraphBuilder } from '../../model/onnx/graph-builder.ts';
import type { TfNodeDef } from './nsfwjs-source.ts';
import { dataInputs, fail } from './tf-node-attrs.ts';

export interface WeightTensor {
  data: Float32Array;
  /** TensorFlow shape (e.g. conv filters are [kh, kw, in, out]). */
  shape: number[];
  /**
   * The weight as TF.js stored it when uint8-quantised: data[i] === lut[codes[i]]
   * (lut holds min + q*scale rounded to float32, exactly as TF.js dequantises).
   */
  quantized?: { codes: Uint8Array; lut: Float32Array };
}

/**
 * How weights are written: 'float32' initializers, or 'uint8-lut' (uint8 codes
 * plus a 256-entry float table, expanded by Cast+Gather that onnxruntime
 * constant-folds at load): a quarter of the size with bit-identical weights.
 */
export type WeightStorage = 'float32' | 'uint8-lut';

export interface WeightWriterOptions {
  weight: (name: string) => WeightTensor | undefined;
  builder: GraphBuilder;
  /** Default 'float32'. Weights without uint8 quantisation are always float32. */
  weightStorage?: WeightStorage;
  /**
   * Weights already written by an earlier conversion into the same builder
   * (key: TF name and ONNX layout -> ONNX value). Passing the same map to
   * several conversions (e.g. branches for different input sizes) makes them
   * share one copy of every weight.
   */
  weightCache?: Map<string, string>;
}

export interface WeightWriter {
  /** The weight of a Const node, read once. */
  constOf: (name: string) => WeightTensor;
  /** Writes a weight (optionally permuted: out[i] = w[perm[i]]) in the chosen storage; returns its value name. */
  emitWeight: (tfName: string, w: WeightTensor, dims: readonly number[], perm?: Int32Array) => string;
  /** A conv filter in ONNX layout, with its group count, output channels and kernel size. */
  convWeights: (
    node: TfNodeDef,
    depthwise: boolean,
  ) => { weights: string; group: number; outC: number; kh: number; kw: number };
}

export function weightWriter(options: WeightWriterOptions, byName: Map<string, TfNodeDef>): WeightWriter {
  const { builder: g, weight } = options;
  const constCache = new Map<string, WeightTensor>();

  const constOf = (name: string): WeightTensor => {
    const cached = constCache.get(name);
    if (cached) return cached;
    const node = byName.get(name);
    if (!node || node.op !== 'Const')
      throw fail(`expected a constant for '${name}', found ${node?.op ?? 'nothing'}`);
    const w = weight(name);
    if (!w) throw fail(`no weight data for constant '${name}'`);
    constCache.set(name, w);
    return w;
  };

  const onnxName = (tfName: string, suffix = ''): string => g.fresh(`${tfName}${suffix}`);

  const emitWeight = (
    tfName: string,
    w: WeightTensor,
    dims: readonly number[],
    perm?: Int32Array,
  ): string => {
    const key = `${tfName}|${dims.join('x')}|${perm ? 'permuted' : 'as-is'}`;
    const cached = options.weightCache?.get(key);
    if (cached !== undefined) return cached;
    const name = writeWeight(tfName, w, dims, perm);
    options.weightCache?.set(key, name);
    return name;
  };

  const writeWeight = (
    tfName: string,
    w: WeightTensor,
    dims: readonly number[],
    perm?: Int32Array,
  ): string => {
    const permute = <T extends Float32Array | Uint8Array>(src: T, make: (n: number) => T): T => {
      if (!perm) return src;
      const out = make(src.length);
      for (let i = 0; i < perm.length; i++) out[i] = src[perm[i]];
      return out;
    };
    if (options.weightStorage === 'uint8-lut' && w.quantized) {
      const codes = g.initializer(
        onnxName(tfName, '/codes'),
        permute(w.quantized.codes, (n) => new Uint8Array(n)),
        dims,
      );
      const lut = g.initializer(onnxName(tfName, '/lut'), w.quantized.lut, [w.quantized.lut.length]);
      const index = g.op('Cast', [codes], { to: 6 /* INT32 */ }, onnxName(tfName, '/index'));
      return g.op('Gather', [lut, index], { axis: 0 }, onnxName(tfName));
    }
    return g.initializer(
      onnxName(tfName),
      permute(w.data, (n) => new Float32Array(n)),
      dims,
    );
  };

  const convWeights = (
    node: TfNodeDef,
    depthwise: boolean,
  ): { weights: string; group: number; outC: number; kh: number; kw: number } => {
    const w = constOf(dataInputs(node)[1]);
    if (w.shape.length !== 4) throw fail(`${node.name}: filter shape [${w.shape}] is not 4-D`);
    const [kh, kw, cin, last] = w.shape;
    const outC = depthwise ? cin * last : last;
    const perGroupIn = depthwise ? 1 : cin;
    const perm = new Int32Array(w.data.length);
    // TF [kh, kw, in, out] -> ONNX [out, in, kh, kw]; depthwise [kh, kw, in, mult] -> [in*mult, 1, kh, kw].
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let c = 0; c < cin; c++) {
          for (let o = 0; o < last; o++) {
            const src = ((y * kw + x) * cin + c) * last + o;
            const dst = depthwise ? ((c * last + o) * kh + y) * kw + x : ((o * cin + c) * kh + y) * kw + x;
            perm[dst] = src;
          }
        }
      }
    }
    const name = emitWeight(dataInputs(node)[1], w, [outC, perGroupIn, kh, kw], perm);
    return { weights: name, group: depthwise ? cin : 1, outC, kh, kw };
  };

  return { constOf, emitWeight, convWeights };
}
