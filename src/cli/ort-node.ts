// RuntimeAdapter over onnxruntime-node for the CLI, evaluation and training.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { AgqgError } from '../model/errors';
import type { RuntimeAdapter, SessionRunner, TensorIn, TensorOut } from '../model/runtime';
import { outputToFloat32 } from '../model/float-output';

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
      out[name] = { data: outputToFloat32(t, this.label, name), dims: [...t.dims] };
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
