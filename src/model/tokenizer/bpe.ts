// Byte-pair encoding of one pre-tokenized, byte-level word, on token ids as
// HF's BPE model does: each character becomes its vocab id (the last one
// with the end-of-word suffix, CLIP's "</w>"; unknown ones the unk id), then
// the lowest-ranked adjacent pair is merged until no pair has a rank.

import { AgqgError } from '../errors';
import type { Vocab } from './load';

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
    while (this.lefts[h] !== -1 && (this.lefts[h] !== left || this.rights[h] !== right)) h = (h + 1) & this.mask;
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
    if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
    this.cache.set(word, ids);
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

  private merge(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length === 0) return [];
    let symbols = chars.map((c, i) => this.symbolId(i === chars.length - 1 ? c + this.endOfWordSuffix : c));

    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestSlot = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const slot = this.merges.find(symbols[i], symbols[i + 1]);
        if (slot >= 0 && this.merges.rankAt(slot) < bestRank) {
          bestRank = this.merges.rankAt(slot);
          bestSlot = slot;
        }
      }
      if (bestSlot < 0) break;
      // Every non-overlapping occurrence of that pair, left to right (same as HF's rank-then-position queue).
      const merged = this.merges.mergedAt(bestSlot);
      const next: number[] = [];
      for (let i = 0; i < symbols.length; ) {
        if (i < symbols.length - 1 && this.merges.find(symbols[i], symbols[i + 1]) === bestSlot) {
          next.push(merged);
          i += 2;
        } else {
          next.push(symbols[i]);
          i += 1;
        }
      }
      symbols = next;
    }
    return symbols;
  }
}
