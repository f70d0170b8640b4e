// RuntimeAdapter over onnxruntime-node for the CLI, evaluation and training.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { AgqgError } from '../model/errors';
import type { RuntimeAdapter, SessionRunner, TensorIn, TensorOut } from '../model/runtime';

function toFloat32(t: ort.Tensor, label: string, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  // Heads and encoders exported in fp16 still report scores; widen them so the core sees one type.
  if (t.type === 'float16') {
    // onnxruntime hands float16 out as raw IEEE half bits in a Uint16Array (or a Float16Array where present).
    const src = t.data as unknown as ArrayLike<number>;
    return src instanceof Uint16Array ? halfBitsToFloat32(src) : Float32Array.from(src);
  }
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  throw new AgqgError('backend_failed', `${label}: output "${name}" is ${t.type}, expected a float tensor`);
}

/** IEEE 754 binary16 bit patterns to float32 values. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 0x1f) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

class NodeSession implements SessionRunner {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly label: string,
  ) {}
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, TensorIn>, outputs?: string[]): Promise<Record<string, TensorOut>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data, t.dims);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = outputs ? await this.session.run(ortFeeds, outputs) : await this.session.run(ortFeeds);
    } catch (err) {
      throw new AgqgError('backend_failed', `${this.label}: inference failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const out: Record<string, TensorOut> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { data: toFloat32(t, this.label, name), dims: [...t.dims] };
    }
    return out;
  }
  async release(): Promise<void> {
    await this.session.release();
  }
}

export class NodeRuntime implements RuntimeAdapter {
  readonly backend = 'onnxruntime-node/cpu';
  constructor(private readonly threads = availableParallelism()) {}
  async createSession(model: Uint8Array, label: string): Promise<SessionRunner> {
    try {
      const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      });
      return new NodeSession(session, label);
    } catch (err) {
      throw new AgqgError('backend_failed', `${label}: onnxruntime-node could not load the graph: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
