// Image features of graded images, kept in the worker for the calibration fits:
// the same features the head read, so fitting never runs the encoder again.
// Keyed by pack/weights and image id, least recently used dropped past a byte cap
// (the default pack's features are 111 kB an image: the cap holds ~4,800).
export const FEATURE_CACHE_BYTES = 512 * 1024 * 1024;

export class FeatureCache {
  private readonly map = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(private readonly capBytes = FEATURE_CACHE_BYTES) {}

  private key(packKey: string, id: string): string {
    return `${packKey}\u0000${id}`;
  }

  put(packKey: string, id: string, features: Float32Array): void {
    const k = this.key(packKey, id);
    const old = this.map.get(k);
    if (old) {
      this.bytes -= old.byteLength;
      this.map.delete(k);
    }
    this.map.set(k, features);
    this.bytes += features.byteLength;
    for (const [key, f] of this.map) {
      if (this.bytes <= this.capBytes) break;
      this.map.delete(key);
      this.bytes -= f.byteLength;
    }
  }

  get(packKey: string, id: string): Float32Array | null {
    const k = this.key(packKey, id);
    const f = this.map.get(k);
    if (!f) return null;
    this.map.delete(k);
    this.map.set(k, f);
    return f;
  }

  get size(): number {
    return this.map.size;
  }
}
