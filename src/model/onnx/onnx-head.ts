// Writes a trained head (HeadParams) as an ONNX graph computing what
// headForward() computes, so browsers and the CLI run it with onnxruntime:
//   features -> (x - mean) / std -> ability theta (MatMul [+ ReLU branch])
//   -> cumulatives c_k = Sigmoid(a (theta - b_k)) -> p = [1, c] - [c, 0]
//   -> expected grade E = p . [1..K] -> score on the MOS scale.
// Alignment heads take the raw image and prompt embeddings and compose
// [cosine, u*v, u, v] of the L2-normalised vectors inside the graph.
// The caller validates params (parseHeadParams); shapes here follow from them.
import { thresholds } from '../grading/grm.ts';
import type { HeadParams } from '../grading/head.ts';
import { attr, GraphBuilder } from './graph-builder.ts';

/** ReduceSum with axes as an input and Concat/ConstantOfShape as used here need opset >= 13. */
export const HEAD_OPSET = 17;

export const HEAD_IO = {
  image: 'image_features',
  text: 'text_features',
  ability: 'ability',
  probabilities: 'probabilities',
  expectedGrade: 'expected_grade',
  score: 'score',
  thresholds: 'thresholds',
} as const;

/** Smallest normal float32: the norm floor that keeps a zero embedding at zero instead of 0/0. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

const f32 = (values: ArrayLike<number>): Float32Array => Float32Array.from(values as ArrayLike<number>);

function l2Normalise(g: GraphBuilder, x: string, axes: string, floor: string, hint: string): string {
  const sq = g.op('Mul', [x, x]);
  const sum = g.op('ReduceSum', [sq, axes], { keepdims: 1 });
  const norm = g.op('Max', [g.op('Sqrt', [sum]), floor]);
  return g.op('Div', [x, norm], {}, hint);
}

export function headToOnnx(params: HeadParams): Uint8Array {
  const g = new GraphBuilder();
  const F = params.inputDim;
  const K = params.K;
  let features: string;
  if (params.input.type === 'image') {
    features = g.input(HEAD_IO.image, 'float32', ['batch', F]);
  } else {
    const E = params.input.embedDim;
    const img = g.input(HEAD_IO.image, 'float32', ['batch', E]);
    const txt = g.input(HEAD_IO.text, 'float32', ['batch', E]);
    const axes = g.initializer('axis1', BigInt64Array.from([1n]), [1]);
    const floor = g.initializer('norm_floor', f32([FLOAT32_MIN_NORMAL]), [1]);
    const u = l2Normalise(g, img, axes, floor, 'image_unit');
    const v = l2Normalise(g, txt, axes, floor, 'text_unit');
    const prod = g.op('Mul', [u, v], {}, 'product');
    const parts = params.input.parts.map((p) =>
      p === 'cosine'
        ? g.op('ReduceSum', [prod, axes], { keepdims: 1 }, 'cosine')
        : p === 'product'
          ? prod
          : p === 'image'
            ? u
            : v,
    );
    features = parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: 1 }, 'composed');
  }
  const mean = g.initializer('mean', f32(params.mean), [F]);
  const std = g.initializer('std', f32(params.std), [F]);
  const z = g.op('Div', [g.op('Sub', [features, mean]), std], {}, 'standardised');
  const w = g.initializer('weights', f32(params.weights), [F, 1]);
  const bias = g.initializer('bias', f32([params.bias]), [1]);
  let theta = g.op('Add', [g.op('MatMul', [z, w]), bias], {}, 'theta_linear');
  const h = params.hidden;
  if (h) {
    // Stored units x F row-major; MatMul wants F x units, i.e. the transpose.
    const w1t = new Float32Array(F * h.units);
    for (let u = 0; u < h.units; u++) for (let j = 0; j < F; j++) w1t[j * h.units + u] = h.weights[u * F + j];
    const w1 = g.initializer('hidden_weights', w1t, [F, h.units]);
    const b1 = g.initializer('hidden_bias', f32(h.bias), [h.units]);
    const hid = g.op('Relu', [g.op('Add', [g.op('MatMul', [z, w1]), b1])], {}, 'hidden');
    const out = g.initializer('hidden_out', f32(h.out), [h.units, 1]);
    theta = g.op('Add', [theta, g.op('MatMul', [hid, out])], {}, 'theta');
  }
  const thr = g.initializer('grm_thresholds', f32(thresholds(params.grm, K)), [K - 1]);
  const a = g.initializer('grm_a', f32([params.grm.a]), [1]);
  const logits = g.op('Mul', [g.op('Sub', [theta, thr]), a], {}, 'logits');
  const cum = g.op('Sigmoid', [logits], {}, 'cumulative');
  const shape = g.op('Shape', [theta]);
  const ones = g.op('ConstantOfShape', [shape], { value: attr.tensor(f32([1]), [1]) }, 'ones');
  const zeros = g.op('ConstantOfShape', [shape], { value: attr.tensor(f32([0]), [1]) }, 'zeros');
  const upper = g.op('Concat', [ones, cum], { axis: 1 });
  const lower = g.op('Concat', [cum, zeros], { axis: 1 });
  g.node('Sub', [upper, lower], [HEAD_IO.probabilities]);
  const grades = g.initializer('grades', f32(Array.from({ length: K }, (_, k) => k + 1)), [K, 1]);
  const e = g.op('MatMul', [HEAD_IO.probabilities, grades], {}, 'expected_col');
  const one = g.initializer('one', f32([1]), [1]);
  const unit = g.initializer('mos_unit', f32([(params.mos.max - params.mos.min) / (K - 1)]), [1]);
  const mosMin = g.initializer('mos_min', f32([params.mos.min]), [1]);
  const score = g.op('Add', [g.op('Mul', [g.op('Sub', [e, one]), unit]), mosMin], {}, 'score_col');
  const flat = g.initializer('flat', BigInt64Array.from([-1n]), [1]);
  g.node('Reshape', [theta, flat], [HEAD_IO.ability]);
  g.node('Reshape', [e, flat], [HEAD_IO.expectedGrade]);
  g.node('Reshape', [score, flat], [HEAD_IO.score]);
  g.node('Identity', [thr], [HEAD_IO.thresholds]);
  g.output(HEAD_IO.ability, 'float32', ['batch']);
  g.output(HEAD_IO.probabilities, 'float32', ['batch', K]);
  g.output(HEAD_IO.expectedGrade, 'float32', ['batch']);
  g.output(HEAD_IO.score, 'float32', ['batch']);
  g.output(HEAD_IO.thresholds, 'float32', [K - 1]);
  return g.toBytes({
    opset: HEAD_OPSET,
    producer: 'agqg-train',
    graphName: 'agqg_head',
    docString: 'AGQG head: standardised features -> ability -> graded response model',
    metadata: {
      'agqg.kind': params.kind,
      'agqg.input': params.input.type,
      'agqg.K': String(K),
      'agqg.grm': JSON.stringify(params.grm),
      'agqg.mos': JSON.stringify(params.mos),
    },
  });
}
