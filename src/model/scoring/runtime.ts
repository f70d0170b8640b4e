// The seam between the pure core and an ONNX runtime (onnxruntime-node in the
// CLI, onnxruntime-web in the worker). The core only sees plain typed arrays,
// so it never imports a runtime and runs the same everywhere.

export type TensorIn =
  | { dtype: 'float32'; data: Float32Array; dims: number[] }
  | { dtype: 'int64'; data: BigInt64Array; dims: number[] };

export interface TensorOut {
  data: Float32Array;
  dims: number[];
}

export interface SessionRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `outputs` limits which outputs are fetched (default: all). */
  run(feeds: Record<string, TensorIn>, outputs?: string[]): Promise<Record<string, TensorOut>>;
  release(): Promise<void>;
}

export interface RuntimeAdapter {
  /** Shown in results, e.g. "onnxruntime-node/cpu" or "onnxruntime-web/wasm". */
  readonly backend: string;
  /** `label` names the graph in error messages ("vision_model.onnx"). */
  createSession(model: Uint8Array, label: string): Promise<SessionRunner>;
}
