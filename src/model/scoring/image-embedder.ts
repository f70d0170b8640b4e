// The vision encoder of a loaded pack: preprocesses each image for every vision
// input the manifest lists and returns the encoder's output row, several images
// per run when the graph's batch axis is free and their tensors share a shape.
import { nowMs } from '../util/clock.ts';
import { AgqgError } from '../errors.ts';
import type { VisionEncoder } from '../pack/manifest.ts';
import { isPrepared, preparedInput, type EncoderImage } from '../image/prepared.ts';
import { outputSize, preprocess, preprocessInto } from '../image/preprocess.ts';
import { lastDim, requireOutput } from './float-output.ts';
import type { SessionRunner, TensorIn } from './runtime.ts';

/** RGB planes of an encoder's image input. */
const CHANNELS = 3;
const WHAT = 'vision encoder';

export interface ImageEmbedding {
  features: Float32Array;
  preprocessMs: number;
  inferenceMs: number;
}

export class ImageEmbedder {
  /** Batch tensors by vision input, kept between runs (takeBatchBuffer); absent while a run holds one. */
  private readonly batchBuffers = new Map<number, Float32Array>();

  constructor(
    private readonly spec: VisionEncoder,
    readonly session: SessionRunner,
  ) {}

  /** True when the vision graph's batch axis is free, so several images can share one encoder run. */
  get canBatch(): boolean {
    return this.spec.inputs.every((input) => typeof input.shape[0] === 'string');
  }

  /** Preprocesses `img` for every vision input and returns the encoder's output row. */
  async embed(img: EncoderImage): Promise<ImageEmbedding> {
    const spec = this.spec;
    const t0 = nowMs();
    const feeds: Record<string, TensorIn> = {};
    for (const [k, input] of spec.inputs.entries()) {
      if (isPrepared(img)) {
        const { width, height } = outputSize(img, input.preprocess);
        feeds[input.name] = {
          dtype: 'float32',
          data: preparedInput(img, k, input.preprocess),
          dims: [1, CHANNELS, height, width],
        };
      } else {
        const { data, dims } = preprocess(img, input.preprocess);
        feeds[input.name] = { dtype: 'float32', data, dims: [...dims] };
      }
    }
    const t1 = nowMs();
    const out = await this.session.run(feeds, [spec.output.name]);
    const t2 = nowMs();
    const y = requireOutput(out, spec.output.name, WHAT);
    const preparedMs = isPrepared(img) ? img.preprocessMs : 0;
    return {
      features: y.data.slice(0, lastDim(y.dims, y.data.length)),
      preprocessMs: preparedMs + t1 - t0,
      inferenceMs: t2 - t1,
    };
  }

  /**
   * Embeds several decoded images with one encoder run when the batch axis is free (else one run
   * each). Each embedding's inferenceMs is its share of the run (run time / images).
   */
  async embedMany(imgs: readonly EncoderImage[]): Promise<ImageEmbedding[]> {
    if (imgs.length <= 1 || !this.canBatch) return this.oneByOne(imgs);
    const spec = this.spec;
    const n = imgs.length;
    const sizes = spec.inputs.map((input) => imgs.map((img) => outputSize(img, input.preprocess)));
    // Configs that keep the aspect ratio (no crop) give each image its own shape: no shared tensor.
    if (sizes.some((s) => s.some((z) => z.width !== s[0].width || z.height !== s[0].height)))
      return this.oneByOne(imgs);
    const preprocessMs = imgs.map((img) => (isPrepared(img) ? img.preprocessMs : 0));
    const feeds: Record<string, TensorIn> = {};
    const taken: [number, Float32Array][] = [];
    for (const [k, input] of spec.inputs.entries()) {
      const { width, height } = sizes[k][0];
      const row = CHANNELS * width * height;
      const batch = this.takeBatchBuffer(k, n * row);
      taken.push([k, batch]);
      for (let i = 0; i < n; i++) {
        const t0 = nowMs();
        const img = imgs[i];
        if (isPrepared(img)) batch.set(preparedInput(img, k, input.preprocess), i * row);
        else preprocessInto(img, input.preprocess, batch, i * row);
        preprocessMs[i] += nowMs() - t0;
      }
      feeds[input.name] = { dtype: 'float32', data: batch, dims: [n, CHANNELS, height, width] };
    }
    const t1 = nowMs();
    let out: Awaited<ReturnType<SessionRunner['run']>>;
    try {
      out = await this.session.run(feeds, [spec.output.name]);
    } finally {
      for (const [k, batch] of taken) this.batchBuffers.set(k, batch);
    }
    const inferenceMs = (nowMs() - t1) / n;
    const y = requireOutput(out, spec.output.name, WHAT);
    if (y.dims[0] !== n)
      throw new AgqgError('backend_failed', `${WHAT} gave ${y.dims[0]} rows for a batch of ${n} images`);
    const width = lastDim(y.dims, y.data.length / n);
    return imgs.map((_, i) => ({
      features: y.data.slice(i * width, (i + 1) * width),
      preprocessMs: preprocessMs[i],
      inferenceMs,
    }));
  }

  private async oneByOne(imgs: readonly EncoderImage[]): Promise<ImageEmbedding[]> {
    const out: ImageEmbedding[] = [];
    for (const img of imgs) out.push(await this.embed(img));
    return out;
  }

  /**
   * A batch tensor for vision input `k`: the one kept from the last run when it is free and big
   * enough (a view of its start), else a new one. Every element is written before the run. A
   * fresh 19 MB array per run of 32 CLIP images cost ~1 ms per image in page faults and zeroing,
   * on the thread that runs the encoder.
   */
  private takeBatchBuffer(k: number, floats: number): Float32Array {
    const kept = this.batchBuffers.get(k);
    this.batchBuffers.delete(k);
    if (kept && kept.buffer.byteLength >= floats * Float32Array.BYTES_PER_ELEMENT)
      return new Float32Array(kept.buffer, 0, floats);
    return new Float32Array(floats);
  }
}
