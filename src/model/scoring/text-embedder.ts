// The text encoder of a loaded pack with its tokenizer: embeds texts in one
// run, each distinct text once per loaded pack (the cache serves repeats, such
// as a batch from one prompt or the zero-shot anchors).
import { MAX_CACHED_TEXTS } from '../limits.ts';
import type { TextEncoder as TextEncoderSpec } from '../pack/manifest.ts';
import { TextEmbeddingCache, type TextEmbedding } from '../text/text-cache.ts';
import type { ClipTokenizer } from '../text/tokenizer.ts';
import { lastDim, requireOutput } from './float-output.ts';
import type { SessionRunner, TensorIn } from './runtime.ts';

export class TextEmbedder {
  private readonly cache = new TextEmbeddingCache(MAX_CACHED_TEXTS);

  constructor(
    private readonly spec: TextEncoderSpec,
    readonly session: SessionRunner,
    readonly tokenizer: ClipTokenizer,
  ) {}

  get contextLength(): number {
    return this.spec.contextLength;
  }

  /** Text embeddings computed vs. served from the cache since load. */
  get cacheStats(): { size: number; hits: number; misses: number } {
    return { size: this.cache.size, hits: this.cache.hits, misses: this.cache.misses };
  }

  /** Embeddings with token counts and truncation flags, in the order of `texts`. */
  async embed(texts: readonly string[]): Promise<TextEmbedding[]> {
    const { session, tokenizer, spec } = this;
    const found = new Map<string, TextEmbedding>();
    const todo: string[] = [];
    for (const t of texts) {
      if (found.has(t) || todo.includes(t)) continue;
      const hit = this.cache.get(t);
      if (hit) found.set(t, hit);
      else todo.push(t);
    }
    if (todo.length > 0) {
      const batch = tokenizer.encodeBatch(todo, spec.contextLength);
      const feeds: Record<string, TensorIn> = {
        [spec.inputIds]: { dtype: 'int64', data: batch.inputIds, dims: [...batch.dims] },
      };
      // Some exports take no attention mask (CLIP pools at the end-of-text token, which the mask does not move).
      if (spec.attentionMask && session.inputNames.includes(spec.attentionMask)) {
        feeds[spec.attentionMask] = { dtype: 'int64', data: batch.attentionMask, dims: [...batch.dims] };
      }
      const out = await session.run(feeds, [spec.output.name]);
      const y = requireOutput(out, spec.output.name, 'text encoder');
      const width = lastDim(y.dims, y.data.length / todo.length);
      todo.forEach((t, i) => {
        const item = batch.items[i];
        const e: TextEmbedding = {
          features: y.data.slice(i * width, (i + 1) * width),
          tokens: item.length,
          truncated: item.truncated,
        };
        this.cache.set(t, e);
        found.set(t, e);
      });
    }
    return texts.map((t) => found.get(t) as TextEmbedding);
  }
}
