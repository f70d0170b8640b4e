// Text embeddings per loaded pack, keyed by the exact prompt text: a prompt
// shared by many images (a batch from one prompt, zero-shot anchors) is
// encoded once. Least recently used entries go first once the cap is reached.

export interface TextEmbedding {
  features: Float32Array;
  /** Tokens fed to the encoder, with start/end markers (after truncation). */
  tokens: number;
  /** True when the prompt was cut to the encoder's context length. */
  truncated: boolean;
}

export class TextEmbeddingCache {
  private readonly map = new Map<string, TextEmbedding>();
  hits = 0;
  misses = 0;
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(text: string): TextEmbedding | undefined {
    const hit = this.map.get(text);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert so Map iteration order is least- to most-recently used.
    this.map.delete(text);
    this.map.set(text, hit);
    return hit;
  }

  set(text: string, value: TextEmbedding): void {
    this.map.delete(text);
    this.map.set(text, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }
}
