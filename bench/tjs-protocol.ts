// Messages between bench/transformers-js.ts (Node, through Playwright), the
// bench page (bench/tjs-page/main.ts) and its transformers.js workers
// (bench/tjs-page/worker.ts). One worker per ORT thread setting, because
// onnxruntime-web reads env.wasm.numThreads once, when its WASM starts.

export interface InitRequest {
  kind: 'init';
  /** ORT threads to set, or null to leave transformers.js/ORT's default. */
  threads: number | null;
  /** env.localModelPath: the path (same origin) the model folders are served under. */
  modelRoot: string;
  modelId: string;
  /** Directory URL of onnxruntime-web's dist/ (its .mjs/.wasm runtime files). */
  ortDir: string;
  /** The runtime files under ortDir (the build 'onnxruntime-web/webgpu' loads). */
  ortFiles: { mjs: string; wasm: string };
  /** Text length the text graph takes (its input_ids are [batch, maxLength]). */
  maxLength: number;
}

export interface InitReply {
  tjsVersion: string;
  ortVersion: string;
  /** ort.env.wasm.numThreads after the first session exists: what ORT runs with. */
  effectiveThreads: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  processorMs: number;
  visionLoadMs: number;
  tokenizerMs: number;
  textLoadMs: number;
}

/** Fetches the JPEGs once into Blobs kept by the worker (not timed). */
export interface ImagesRequest {
  kind: 'images';
  urls: string[];
}

export interface ImagesReply {
  count: number;
  bytes: number;
}

/** Times, in ms, of one image or of one batch (decode = Blob -> RawImage). */
export interface PartTimes {
  decodeMs: number;
  preprocessMs: number;
  modelMs: number;
  totalMs: number;
}

/** One image at a time through processor + model; one PartTimes per image. */
export interface OneByOneRequest {
  kind: 'one-by-one';
  indices: number[];
}

/** The images as one array: one processor call and one model call. */
export interface BatchRequest {
  kind: 'batch';
  indices: number[];
}

export interface RunReply {
  times: PartTimes[];
  /** Wall time of the whole request inside the worker. */
  wallMs: number;
  /** Embedding values that were NaN or infinite (must be 0). */
  nonFinite: number;
  embeddings: number;
  dims: number;
}

export interface EmbedImageRequest {
  kind: 'embed-image';
  index: number;
}

export interface EmbedTextRequest {
  kind: 'embed-text';
  text: string;
}

export interface EmbedReply {
  embedding: number[];
}

/** Prompts one at a time: tokenizer + text model. */
export interface TextRequest {
  kind: 'text';
  prompts: string[];
}

export interface TextTimes {
  tokenizeMs: number;
  modelMs: number;
  totalMs: number;
}

export interface TextReply {
  times: TextTimes[];
  nonFinite: number;
}

export type Request =
  | InitRequest
  | ImagesRequest
  | OneByOneRequest
  | BatchRequest
  | EmbedImageRequest
  | EmbedTextRequest
  | TextRequest;

export interface ReplyOf {
  init: InitReply;
  images: ImagesReply;
  'one-by-one': RunReply;
  batch: RunReply;
  'embed-image': EmbedReply;
  'embed-text': EmbedReply;
  text: TextReply;
}

export type Envelope = { id: number; request: Request };
export type Answer = { id: number; ok: true; reply: unknown } | { id: number; ok: false; error: string };

/** What the bench page puts on globalThis for Playwright to call. */
export interface TjsBenchApi {
  spawn(key: string): void;
  call(key: string, request: Request): Promise<unknown>;
  terminate(key: string): void;
}
