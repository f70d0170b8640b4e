// onnxruntime-node and onnxruntime-web share onnxruntime-common's session and
// tensor API, so one SessionRunner wraps either; each adapter passes its own
// InferenceSession and Tensor class.
import { AgqgError } from '../errors.ts';
import { outputToFloat32 } from './float-output.ts';
import type { SessionRunner, TensorIn, TensorOut } from './runtime.ts';

export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, OrtTensorLike>,
    fetches: readonly string[],
  ): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

export type OrtTensorClass = new (
  type: TensorIn['dtype'],
  data: TensorIn['data'],
  dims: readonly number[],
) => OrtTensorLike;

export class OrtSession implements SessionRunner {
  constructor(
    private readonly session: OrtSessionLike,
    private readonly Tensor: OrtTensorClass,
    private readonly label: string,
    /** Named in inference errors, e.g. "on WebGPU". */
    private readonly where: string,
  ) {}
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  async run(feeds: Record<string, TensorIn>, outputs?: string[]): Promise<Record<string, TensorOut>> {
    const ortFeeds: Record<string, OrtTensorLike> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.Tensor(t.dtype, t.data, t.dims);
    let result: Record<string, OrtTensorLike>;
    try {
      result = await this.session.run(ortFeeds, outputs ?? this.session.outputNames);
    } catch (err) {
      throw new AgqgError(
        'backend_failed',
        `${this.label}: inference failed ${this.where}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const out: Record<string, TensorOut> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { data: outputToFloat32(t, this.label, name), dims: [...t.dims] };
      // GPU-resident outputs hold device memory until disposed; CPU ones ignore it.
      t.dispose?.();
    }
    return out;
  }
  async release(): Promise<void> {
    await this.session.release();
  }
}
