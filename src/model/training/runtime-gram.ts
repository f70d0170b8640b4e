// X X^T through an ONNX runtime's MatMul (vectorised, threaded GEMM): the Gram
// matrices of cross-validation take seconds instead of a minute in TypeScript.
// Float32 products, symmetrised and returned as float64. The graph and the
// symmetrising are shared by the CLI (onnxruntime-node) and the worker
// (onnxruntime-web, through the runtime it scores with).
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { matrix, type Matrix } from './linalg.ts';

export const GRAM_OPSET = 17;

export function gramGraph(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 'd']);
  const xt = g.op('Transpose', [x], { perm: [1, 0] });
  g.node('MatMul', [x, xt], ['gram']);
  g.output('gram', 'float32', ['n', 'n']);
  return g.toBytes({ opset: GRAM_OPSET, producer: 'agqg-train' });
}

/** The runtime's n x n product as a symmetric float64 matrix (its blocked sums need not give bit-identical (i,j) and (j,i)). */
export function symmetricGram(g: Float32Array, n: number): Matrix {
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (g[i * n + j] + g[j * n + i]) / 2;
      sym[i * n + j] = v;
      sym[j * n + i] = v;
    }
  }
  return matrix(n, n, sym);
}

/** What the Gram needs of a runtime (the core's RuntimeAdapter has it). */
export interface GramRuntime {
  createSession(
    model: Uint8Array,
    label: string,
  ): Promise<{
    run(
      feeds: Record<string, { dtype: 'float32'; data: Float32Array; dims: number[] }>,
      outputs?: string[],
    ): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
    release(): Promise<void>;
  }>;
}

/** A Gram function on `runtime` (its session made on first use) and its release. */
export function runtimeGram(runtime: GramRuntime): {
  gram: (m: Matrix) => Promise<Matrix>;
  release: () => Promise<void>;
} {
  let session: ReturnType<GramRuntime['createSession']> | null = null;
  return {
    async gram(m) {
      session ??= runtime.createSession(gramGraph(), 'gram');
      const s = await session;
      const out = await s.run(
        { x: { dtype: 'float32', data: Float32Array.from(m.data), dims: [m.rows, m.cols] } },
        ['gram'],
      );
      return symmetricGram(out.gram.data, m.rows);
    },
    async release() {
      if (!session) return;
      const s = await session;
      session = null;
      await s.release();
    },
  };
}
