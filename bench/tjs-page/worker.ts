// transformers.js as a user would run it in a Web Worker: AutoProcessor +
// CLIPVisionModelWithProjection on JPEG Blobs (RawImage.fromBlob), and
// AutoTokenizer + CLIPTextModelWithProjection on prompts. Each worker is one
// ORT thread setting: onnxruntime-web fixes its thread count when its WASM
// starts, once per JavaScript realm.
import {
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  RawImage,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
} from '@huggingface/transformers';
import * as ort from 'onnxruntime-web/webgpu';
import type {
  Answer,
  EmbedReply,
  Envelope,
  ImagesReply,
  InitReply,
  InitRequest,
  PartTimes,
  Request,
  RunReply,
  TextReply,
  TextTimes,
} from '../tjs-protocol.ts';

// This file is type-checked with the Node benchmark (tsconfig.node.json, no
// DOM/WebWorker lib), so the few worker globals it touches are declared here.
interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: Envelope }) => void): void;
  crossOriginIsolated: boolean;
  navigator: { hardwareConcurrency: number };
}
declare const self: WorkerScope;

interface Loaded {
  processor: Processor;
  vision: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  text: PreTrainedModel;
  maxLength: number;
}

let loaded: Loaded | null = null;
const blobs: Blob[] = [];

const now = (): number => performance.now();

function need(): Loaded {
  if (!loaded) throw new Error('init first');
  return loaded;
}

function blobAt(i: number): Blob {
  const b = blobs[i];
  if (!b) throw new Error(`no image ${i} (have ${blobs.length}): send "images" first`);
  return b;
}

function outputOf(out: Record<string, unknown>, name: string): Tensor {
  const t = out[name];
  if (!(t instanceof Tensor))
    throw new Error(`the model returned no ${name} (got ${Object.keys(out).join(', ')})`);
  return t;
}

function countNonFinite(t: Tensor): number {
  const data = t.data as Float32Array;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  return bad;
}

async function init(req: InitRequest): Promise<InitReply> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = req.modelRoot;
  // Cache Storage would keep a second 600 MB copy per worker; it only changes load time.
  env.useBrowserCache = false;
  const wasm = env.backends.onnx.wasm;
  if (!wasm) throw new Error('transformers.js has no onnxruntime-web wasm backend');
  wasm.wasmPaths = {
    mjs: new URL(req.ortFiles.mjs, req.ortDir).href,
    wasm: new URL(req.ortFiles.wasm, req.ortDir).href,
  };
  if (req.threads !== null) wasm.numThreads = req.threads;

  const t0 = now();
  const processor = await AutoProcessor.from_pretrained(req.modelId);
  const t1 = now();
  const vision = await CLIPVisionModelWithProjection.from_pretrained(req.modelId, {
    dtype: 'fp32',
    device: 'wasm',
  });
  const t2 = now();
  const tokenizer = await AutoTokenizer.from_pretrained(req.modelId);
  const t3 = now();
  const text = await CLIPTextModelWithProjection.from_pretrained(req.modelId, {
    dtype: 'fp32',
    device: 'wasm',
  });
  const t4 = now();
  loaded = { processor, vision, tokenizer, text, maxLength: req.maxLength };
  const threads = ort.env.wasm.numThreads;
  return {
    tjsVersion: env.version,
    ortVersion: ort.env.versions.web ?? 'unknown',
    effectiveThreads: typeof threads === 'number' ? threads : Number.NaN,
    crossOriginIsolated: self.crossOriginIsolated === true,
    hardwareConcurrency: self.navigator.hardwareConcurrency,
    processorMs: t1 - t0,
    visionLoadMs: t2 - t1,
    tokenizerMs: t3 - t2,
    textLoadMs: t4 - t3,
  };
}

async function images(urls: string[]): Promise<ImagesReply> {
  blobs.length = 0;
  let bytes = 0;
  for (const url of urls) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const blob = await res.blob();
    bytes += blob.size;
    blobs.push(blob);
  }
  return { count: blobs.length, bytes };
}

async function oneByOne(indices: number[]): Promise<RunReply> {
  const { processor, vision } = need();
  const times: PartTimes[] = [];
  let nonFinite = 0;
  let dims = 0;
  const w0 = now();
  for (const i of indices) {
    const t0 = now();
    const image = await RawImage.fromBlob(blobAt(i));
    const t1 = now();
    const inputs = await processor(image);
    const t2 = now();
    const out = (await vision(inputs)) as Record<string, unknown>;
    const t3 = now();
    const embeds = outputOf(out, 'image_embeds');
    nonFinite += countNonFinite(embeds);
    dims = embeds.dims[1];
    times.push({ decodeMs: t1 - t0, preprocessMs: t2 - t1, modelMs: t3 - t2, totalMs: t3 - t0 });
  }
  return { times, wallMs: now() - w0, nonFinite, embeddings: indices.length, dims };
}

async function batch(indices: number[]): Promise<RunReply> {
  const { processor, vision } = need();
  const t0 = now();
  const decoded = await Promise.all(indices.map((i) => RawImage.fromBlob(blobAt(i))));
  const t1 = now();
  const inputs = await processor(decoded);
  const t2 = now();
  const out = (await vision(inputs)) as Record<string, unknown>;
  const t3 = now();
  const embeds = outputOf(out, 'image_embeds');
  if (embeds.dims[0] !== indices.length)
    throw new Error(`batch of ${indices.length} gave ${embeds.dims[0]} embeddings`);
  return {
    times: [{ decodeMs: t1 - t0, preprocessMs: t2 - t1, modelMs: t3 - t2, totalMs: t3 - t0 }],
    wallMs: t3 - t0,
    nonFinite: countNonFinite(embeds),
    embeddings: embeds.dims[0],
    dims: embeds.dims[1],
  };
}

function tokenize(l: Loaded, prompt: string): Record<string, unknown> {
  // The export's text graph takes exactly maxLength tokens, so pad to it (as transformers.js's own SigLIP pipeline does).
  return l.tokenizer(prompt, { padding: 'max_length', truncation: true, max_length: l.maxLength }) as Record<
    string,
    unknown
  >;
}

async function textRun(prompts: string[]): Promise<TextReply> {
  const l = need();
  const times: TextTimes[] = [];
  let nonFinite = 0;
  for (const p of prompts) {
    const t0 = now();
    const inputs = tokenize(l, p);
    const t1 = now();
    const out = (await l.text(inputs)) as Record<string, unknown>;
    const t2 = now();
    nonFinite += countNonFinite(outputOf(out, 'text_embeds'));
    times.push({ tokenizeMs: t1 - t0, modelMs: t2 - t1, totalMs: t2 - t0 });
  }
  return { times, nonFinite };
}

async function embedImage(index: number): Promise<EmbedReply> {
  const { processor, vision } = need();
  const out = (await vision(await processor(await RawImage.fromBlob(blobAt(index))))) as Record<
    string,
    unknown
  >;
  return { embedding: Array.from(outputOf(out, 'image_embeds').data as Float32Array) };
}

async function embedText(text: string): Promise<EmbedReply> {
  const l = need();
  const out = (await l.text(tokenize(l, text))) as Record<string, unknown>;
  return { embedding: Array.from(outputOf(out, 'text_embeds').data as Float32Array) };
}

function handle(req: Request): Promise<unknown> {
  switch (req.kind) {
    case 'init':
      return init(req);
    case 'images':
      return images(req.urls);
    case 'one-by-one':
      return oneByOne(req.indices);
    case 'batch':
      return batch(req.indices);
    case 'embed-image':
      return embedImage(req.index);
    case 'embed-text':
      return embedText(req.text);
    case 'text':
      return textRun(req.prompts);
  }
}

// Requests arrive one at a time from the page; still, run them strictly in order.
let chain: Promise<void> = Promise.resolve();
self.addEventListener('message', (event) => {
  const { id, request } = event.data;
  chain = chain.then(async () => {
    let answer: Answer;
    try {
      answer = { id, ok: true, reply: await handle(request) };
    } catch (err) {
      answer = {
        id,
        ok: false,
        error: err instanceof Error ? `${err.message}${err.stack ? `\n${err.stack}` : ''}` : String(err),
      };
    }
    self.postMessage(answer);
  });
});
