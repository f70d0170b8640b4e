// X X^T through onnxruntime's MatMul (multi-threaded, vectorised GEMM): the
// Gram matrices of cross-validation take seconds instead of minutes in plain
// TypeScript. Float32 products, accumulated by the runtime; returned as float64.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../model/onnx/graph-builder.ts';
import { matrix, type Matrix } from '../../model/training/linalg.ts';
import { gramGraph, symmetricGram } from '../../model/training/runtime-gram.ts';

let session: Promise<ort.InferenceSession> | null = null;

export async function ortGram(m: Matrix): Promise<Matrix> {
  session ??= ort.InferenceSession.create(gramGraph(), { graphOptimizationLevel: 'all' });
  const s = await session;
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(m.data), [m.rows, m.cols]) });
  const sym = symmetricGram(out.gram.data as Float32Array, m.rows);
  out.gram.dispose();
  return sym;
}

export async function releaseOrtGram(): Promise<void> {
  if (!session) return;
  const s = await session;
  session = null;
  await s.release();
}

let mulSession: Promise<ort.InferenceSession> | null = null;

function matMulGraph(): Uint8Array {
  const g = new GraphBuilder();
  const a = g.input('a', 'float32', ['n', 'k']);
  const b = g.input('b', 'float32', ['k', 'm']);
  g.node('MatMul', [a, b], ['c']);
  g.output('c', 'float32', ['n', 'm']);
  return g.toBytes({ opset: 17, producer: 'agqg-train' });
}

/** A B through onnxruntime (float32 products), for the kernel PCA's subspace iteration. */
export async function ortMatMul(a: Matrix, b: Matrix): Promise<Matrix> {
  mulSession ??= ort.InferenceSession.create(matMulGraph(), { graphOptimizationLevel: 'all' });
  const s = await mulSession;
  const out = await s.run({
    a: new ort.Tensor('float32', Float32Array.from(a.data), [a.rows, a.cols]),
    b: new ort.Tensor('float32', Float32Array.from(b.data), [b.rows, b.cols]),
  });
  const c = matrix(a.rows, b.cols, Float64Array.from(out.c.data as Float32Array));
  out.c.dispose();
  return c;
}

export async function releaseOrtMatMul(): Promise<void> {
  if (!mulSession) return;
  const s = await mulSession;
  mulSession = null;
  await s.release();
}
