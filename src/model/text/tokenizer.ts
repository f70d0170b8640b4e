// CLIP text tokenizer, id-for-id equal to Hugging Face's fast CLIPTokenizer:
// added (special) tokens are cut out of the raw text first, each remaining
// segment is normalized (NFC, whitespace runs → " ", lowercase), split by
// CLIP's pattern, mapped to GPT-2's byte alphabet and BPE-encoded with the
// "</w>" suffix; then <start> ids <end>, truncated and padded to the context
// length. Like the fast tokenizer (and unlike the slow one) there is no ftfy
// fix-up and no HTML unescaping.

import { AgqgError } from '../errors.ts';
import { BytePairEncoder } from './bpe.ts';
import { CHAR_TO_BYTE, toByteLevel, utf8DecodeLossy } from './byte-level.ts';
import {
  checkContextLength,
  specFromTokenizerJson,
  specFromVocabMerges,
  type AddedToken,
  type TokenizerOptions,
  type TokenizerSpec,
} from './tokenizer-load.ts';

export { tokenizerOptionsFromConfig, CLIP_CONTEXT_LENGTH, type TokenizerOptions } from './tokenizer-load.ts';

export interface EncodedText {
  inputIds: number[];
  attentionMask: number[];
  /** Real tokens including start/end, before padding (after truncation). */
  length: number;
  truncated: boolean;
}

export interface EncodedBatch {
  /** Row-major [batch, contextLength], int64 as onnxruntime expects. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  dims: [number, number];
  items: EncodedText[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** encode()'s default length: CLIP's 77 unless the files or options say otherwise. */
  readonly contextLength: number;

  private readonly spec: TokenizerSpec;
  private readonly bpe: BytePairEncoder;
  /** Matches any added token in raw text, longest first (HF's leftmost-longest). */
  private readonly addedPattern: RegExp | null;
  private readonly addedByContent: Map<string, AddedToken>;
  private inverse: (string | undefined)[] | null = null;
  private readonly specialIds: Set<number>;
  private readonly addedById: Map<number, AddedToken>;

  private constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.bpe = new BytePairEncoder(spec.vocab, spec.merges, spec.endOfWordSuffix, spec.unk?.id ?? null);
    this.bosId = spec.bos.id;
    this.eosId = spec.eos.id;
    this.padId = spec.pad.id;
    this.contextLength = spec.contextLength;
    this.addedByContent = new Map(spec.added.map((t) => [t.content, t]));
    this.addedById = new Map(spec.added.map((t) => [t.id, t]));
    const contents = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegex).join('|'), 'g') : null;
    this.specialIds = new Set(spec.added.filter((t) => t.special).map((t) => t.id));
  }

  /** One past the largest id (vocab and added tokens). */
  get vocabSize(): number {
    return this.idToToken().length;
  }

  /** Built on first use: encode() needs only token → id. */
  private idToToken(): (string | undefined)[] {
    this.inverse ??= this.spec.inverse();
    return this.inverse;
  }

  /**
   * From a Hugging Face tokenizer.json (text or parsed; a parsed object is
   * kept as the vocabulary, so do not modify it afterwards); options e.g. from
   * tokenizerOptionsFromConfig().
   */
  static fromTokenizerJson(json: string | unknown, options?: TokenizerOptions): ClipTokenizer {
    return new ClipTokenizer(specFromTokenizerJson(json, options));
  }

  /** From OpenAI CLIP's vocab.json + merges.txt (text or parsed vocab, kept as is: do not modify it afterwards). */
  static fromVocabMerges(
    vocabJson: string | Record<string, number>,
    mergesTxt: string,
    options?: TokenizerOptions,
  ): ClipTokenizer {
    return new ClipTokenizer(specFromVocabMerges(vocabJson, mergesTxt, options));
  }

  /** BPE tokens of the text, without start/end tokens (added tokens in the text appear as themselves). */
  tokenize(text: string): string[] {
    const ids: number[] = [];
    this.run(checkText(text), Infinity, (id) => {
      ids.push(id);
    });
    const inverse = this.idToToken();
    return ids.map((id) => inverse[id] as string);
  }

  encode(text: string, contextLength: number = this.contextLength): EncodedText {
    const n = checkContextLength(contextLength, 'context length');
    const room = n - 2;
    const body: number[] = [];
    // One token past the room is enough to know the text was truncated.
    const complete = this.run(checkText(text), room + 1, (id) => {
      body.push(id);
    });
    const truncated = !complete || body.length > room;
    if (body.length > room) body.length = room;

    const inputIds = new Array<number>(n).fill(this.padId);
    const attentionMask = new Array<number>(n).fill(0);
    inputIds[0] = this.bosId;
    for (let i = 0; i < body.length; i++) inputIds[i + 1] = body[i];
    const length = body.length + 2;
    inputIds[length - 1] = this.eosId;
    attentionMask.fill(1, 0, length);
    return { inputIds, attentionMask, length, truncated };
  }

  encodeBatch(texts: readonly string[], contextLength: number = this.contextLength): EncodedBatch {
    if (!Array.isArray(texts)) throw new AgqgError('internal', 'encodeBatch needs an array of strings');
    const n = checkContextLength(contextLength, 'context length');
    const items = texts.map((t) => this.encode(t, n));
    const inputIds = new BigInt64Array(items.length * n);
    const attentionMask = new BigInt64Array(items.length * n);
    items.forEach((item, row) => {
      for (let i = 0; i < n; i++) {
        inputIds[row * n + i] = BigInt(item.inputIds[i]);
        attentionMask[row * n + i] = BigInt(item.attentionMask[i]);
      }
    });
    return { inputIds, attentionMask, dims: [items.length, n], items };
  }

  /**
   * Text of ids, as transformers' CLIP tokenizers decode with
   * skip_special_tokens: special tokens dropped, bytes decoded as UTF-8
   * (invalid sequences → U+FFFD), "</w>" read as a space, ends trimmed.
   */
  decode(ids: number[]): string {
    const suffix = this.spec.endOfWordSuffix;
    const inverse = this.idToToken();
    let out = '';
    let bytes: number[] = [];
    const flush = (): void => {
      out += utf8DecodeLossy(bytes);
      bytes = [];
    };
    for (const id of ids) {
      const token = Number.isInteger(id) ? inverse[id] : undefined;
      if (token === undefined)
        throw new AgqgError(
          'internal',
          `token id ${String(id)} is not in the vocabulary (0..${this.vocabSize - 1})`,
        );
      if (this.specialIds.has(id)) continue;
      if (this.addedById.has(id)) {
        flush();
        out += token;
        continue;
      }
      const endsWord = suffix !== '' && token.endsWith(suffix);
      const body = endsWord ? token.slice(0, -suffix.length) : token;
      for (const ch of body) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined)
          throw new AgqgError('internal', `token ${JSON.stringify(token)} is not byte-level`);
        bytes.push(b);
      }
      if (endsWord) bytes.push(0x20);
    }
    flush();
    return out.trim();
  }

  /**
   * Feeds token ids of `text` to `emit` in order, stopping after `limit` tokens.
   * Returns false when it stopped early, so long prompts cost only what fits.
   */
  private run(text: string, limit: number, emit: (id: number) => void): boolean {
    let count = 0;
    const segments = this.splitAdded(text);
    for (const seg of segments) {
      if (typeof seg !== 'string') {
        if (count >= limit) return false;
        emit(seg.id);
        count++;
        continue;
      }
      for (const piece of this.spec.preTokenizer(this.spec.normalizer(seg))) {
        for (const id of this.bpe.encodeWord(toByteLevel(piece))) {
          if (count >= limit) return false;
          emit(id);
          count++;
        }
      }
    }
    return true;
  }

  /** Raw text cut around added tokens, which match before normalization (they are not "normalized"). */
  private splitAdded(text: string): (string | AddedToken)[] {
    if (this.addedPattern === null) return [text];
    const out: (string | AddedToken)[] = [];
    let last = 0;
    for (const m of text.matchAll(this.addedPattern)) {
      const at = m.index as number;
      if (at > last) out.push(text.slice(last, at));
      out.push(this.addedByContent.get(m[0]) as AddedToken);
      last = at + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}

function checkText(text: unknown): string {
  if (typeof text !== 'string')
    throw new AgqgError('internal', `prompt must be a string, got ${typeof text}`);
  return text;
}
