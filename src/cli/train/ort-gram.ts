// X X^T through onnxruntime's MatMul (multi-threaded, vectorised GEMM): the
// Gram matrices of cross-validation take seconds instead of minutes in plain
// TypeScript. Float32 products, accumulated by the runtime; returned as float64.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../model/onnx/graph-builder';
import { matrix, type Matrix } from './linalg';

let session: Promise<ort.InferenceSession> | null = null;

function gramGraph(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 'd']);
  const xt = g.op('Transpose', [x], { perm: [1, 0] });
  g.node('MatMul', [x, xt], ['gram']);
  g.output('gram', 'float32', ['n', 'n']);
  return g.toBytes({ opset: 17, producer: 'agqg-train' });
}

export async function ortGram(m: Matrix): Promise<Matrix> {
  session ??= ort.InferenceSession.create(gramGraph(), { graphOptimizationLevel: 'all' });
  const s = await session;
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(m.data), [m.rows, m.cols]) });
  const g = out.gram.data as Float32Array;
  const n = m.rows;
  const sym = new Float64Array(n * n);
  // Symmetrise: the runtime's blocked sums need not give bit-identical (i,j) and (j,i).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (g[i * n + j] + g[j * n + i]) / 2;
      sym[i * n + j] = v;
      sym[j * n + i] = v;
    }
  }
  out.gram.dispose();
  return matrix(n, n, sym);
}

export async function releaseOrtGram(): Promise<void> {
  if (!session) return;
  const s = await session;
  session = null;
  await s.release();
}
