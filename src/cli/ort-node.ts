// RuntimeAdapter over onnxruntime-node for the CLI, evaluation and training.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { AgqgError } from '../model/errors.ts';
import type { RuntimeAdapter, SessionRunner } from '../model/scoring/runtime.ts';
import { OrtSession } from '../model/scoring/ort-session.ts';

export class NodeRuntime implements RuntimeAdapter {
  readonly backend = 'onnxruntime-node/cpu';
  constructor(private readonly threads = availableParallelism()) {}
  async createSession(model: Uint8Array, label: string): Promise<SessionRunner> {
    try {
      const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Without the arena, a run's activations go back to the system when it ends: on the
        // default pack, --batch 8 peaked at 1.33 GB with it and 0.83 GB without (31 files).
        enableCpuMemArena: false,
        executionProviders: ['cpu'],
      });
      return new OrtSession(session, ort.Tensor, label, 'on onnxruntime-node');
    } catch (err) {
      throw new AgqgError(
        'backend_failed',
        `${label}: onnxruntime-node could not load the graph: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
