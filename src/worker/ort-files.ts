// onnxruntime-web's runtime files, per build, as the site serves them under ort/.
// vite.config.ts copies exactly these into dist/ort/ (and serves them in dev), and
// the worker points each build's env.wasm.wasmPaths at them: one list for both.

/** Folder of the runtime files, relative to the site's base. */
export const ORT_DIR = 'ort';

/** The Emscripten module and binary each onnxruntime-web build loads. */
export const ORT_BUILD_FILES = {
  // 'onnxruntime-web/wasm': no WebGPU and no asyncify instrumentation. Half the code of the
  // asyncify build (14 vs 27 MB), so V8 has far less to compile while the first batch runs.
  wasm: { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
  // 'onnxruntime-web/webgpu': the WebGPU provider needs asyncify; after a WebGPU failure the
  // same build's WASM provider takes over, so a second runtime is never loaded mid-batch.
  webgpu: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
} as const;

export type OrtBuild = keyof typeof ORT_BUILD_FILES;

/** Every runtime file name the site must serve. */
export const ORT_FILE_NAMES: readonly string[] = Object.values(ORT_BUILD_FILES).flatMap((f) => [
  f.mjs,
  f.wasm,
]);
