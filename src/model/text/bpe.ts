// Byte-pair encoding of one pre-tokenized, byte-level word, on token ids as
// HF's BPE model does: each character becomes its vocab id (the last one
// with the end-of-word suffix, CLIP's "</w>"; unknown ones the unk id), then
// the lowest-ranked adjacent pair is merged (leftmost first on ties) until no
// pair has a rank.

import { AgqgError } from '../errors.ts';

/** Token → id lookups. */
export interface Vocab {
  get(token: string): number | undefined;
}

/**
 * (left id, right id) → (rank, merged id) as an open-addressing table of typed
 * arrays: a Map keyed by "left right" strings took most of the load time of
 * CLIP's 48,894 merges.
 */
export class MergeTable {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly merged: Int32Array;
  private readonly shift: number;
  private readonly mask: number;
  private count = 0;

  constructor(expected: number) {
    let bits = 4;
    while (1 << bits < expected * 2) bits++;
    const cap = 1 << bits;
    this.shift = 32 - bits;
    this.mask = cap - 1;
    this.lefts = new Int32Array(cap).fill(-1);
    this.rights = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.merged = new Int32Array(cap);
  }

  get size(): number {
    return this.count;
  }

  private slot(left: number, right: number): number {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 1, 0x85ebca6b)) >>> this.shift;
    while (this.lefts[h] !== -1 && (this.lefts[h] !== left || this.rights[h] !== right))
      h = (h + 1) & this.mask;
    return h;
  }

  /** A repeated pair keeps its later rank, as HF's merge map does. */
  add(left: number, right: number, rank: number, merged: number): void {
    if (this.count * 2 >= this.lefts.length) throw new Error('MergeTable: more merges than announced');
    const h = this.slot(left, right);
    if (this.lefts[h] === -1) this.count++;
    this.lefts[h] = left;
    this.rights[h] = right;
    this.ranks[h] = rank;
    this.merged[h] = merged;
  }

  /** Slot of the pair, or -1. */
  find(left: number, right: number): number {
    const h = this.slot(left, right);
    return this.lefts[h] === -1 ? -1 : h;
  }

  rankAt(slot: number): number {
    return this.ranks[slot];
  }

  mergedAt(slot: number): number {
    return this.merged[slot];
  }
}

/** Words are few and repeat (prompts share vocabulary); past this, the cache is dropped, not grown. */
const MAX_CACHED_WORDS = 50_000;
/** Longer "words" are pasted junk, not vocabulary: caching them would only hold memory. */
const MAX_CACHED_WORD_LENGTH = 256;

export class BytePairEncoder {
  private readonly cache = new Map<string, readonly number[]>();

  constructor(
    private readonly vocab: Vocab,
    private readonly merges: MergeTable,
    private readonly endOfWordSuffix: string,
    private readonly unkId: number | null,
  ) {}

  /** Ids of a byte-level word; the returned array is shared with the cache, do not modify it. */
  encodeWord(word: string): readonly number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.merge(word);
    if (word.length <= MAX_CACHED_WORD_LENGTH) {
      if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  private symbolId(symbol: string): number {
    const id = this.vocab.get(symbol);
    if (id !== undefined) return id;
    if (this.unkId !== null) return this.unkId;
    throw new AgqgError(
      'pack_invalid',
      `tokenizer: symbol ${JSON.stringify(symbol)} is not in the vocabulary and there is no unk token`,
    );
  }

  /**
   * HF's Word::merge_all: symbols in a linked list, candidate merges in a
   * heap ordered by (rank, position), stale candidates skipped when popped.
   * O(n log n), so a long unbroken word costs milliseconds, not seconds.
   */
  private merge(word: string): number[] {
    const chars = Array.from(word);
    const n = chars.length;
    if (n === 0) return [];
    const ids = chars.map((c, i) => this.symbolId(i === n - 1 ? c + this.endOfWordSuffix : c));
    if (n === 1) return ids;
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const heap = new MergeHeap();
    const consider = (left: number): void => {
      const right = next[left];
      if (right < 0) return;
      const slot = this.merges.find(ids[left], ids[right]);
      if (slot >= 0) heap.push(this.merges.rankAt(slot), left, slot);
    };
    for (let i = 0; i < n - 1; i++) consider(i);

    while (heap.size > 0) {
      const { pos, slot } = heap.pop();
      const right = next[pos];
      // Stale: the left symbol was merged away, or its right neighbour changed since.
      if (!alive[pos] || right < 0 || this.merges.find(ids[pos], ids[right]) !== slot) continue;
      ids[pos] = this.merges.mergedAt(slot);
      alive[right] = 0;
      next[pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = pos;
      if (prev[pos] >= 0) consider(prev[pos]);
      consider(pos);
    }

    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(ids[i]);
    return out;
  }
}

/** Min-heap of candidate merges by (rank, position): HF's tie-break is the leftmost pair. */
class MergeHeap {
  private readonly ranks: number[] = [];
  private readonly positions: number[] = [];
  private readonly slots: number[] = [];

  get size(): number {
    return this.ranks.length;
  }

  private less(i: number, j: number): boolean {
    const r = this.ranks[i] - this.ranks[j];
    return r < 0 || (r === 0 && this.positions[i] < this.positions[j]);
  }

  private swap(i: number, j: number): void {
    for (const a of [this.ranks, this.positions, this.slots]) {
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  push(rank: number, pos: number, slot: number): void {
    this.ranks.push(rank);
    this.positions.push(pos);
    this.slots.push(slot);
    for (let i = this.ranks.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { pos: number; slot: number } {
    const top = { pos: this.positions[0], slot: this.slots[0] };
    const last = this.ranks.length - 1;
    this.swap(0, last);
    this.ranks.pop();
    this.positions.pop();
    this.slots.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
