// Reads the two tokenizer file formats (HF tokenizer.json; vocab.json +
// merges.txt) into one validated description. Anything the encoder does not
// implement is refused here with a specific message rather than silently
// producing different ids.

import { AgqgError } from '../errors.ts';
import {
  CLIP_NORMALIZER,
  CLIP_PRE_TOKENIZER,
  buildNormalizer,
  buildPreTokenizer,
  hasByteLevel,
  type Normalizer,
  type PreTokenizer,
} from './pipeline.ts';
import { MergeTable, type Vocab } from './bpe.ts';

export interface TokenizerOptions {
  /** Special token strings; when absent they come from the file (post-processor, padding). */
  bos?: string;
  eos?: string;
  pad?: string;
  /** Sequence length encode() pads/truncates to when none is passed. */
  contextLength?: number;
}

export interface AddedToken {
  content: string;
  id: number;
  special: boolean;
}

export interface SpecialToken {
  token: string;
  id: number;
}

export interface TokenizerSpec {
  vocab: Vocab;
  /** id → token string, including added tokens; holes for unused ids. Checks the whole vocab, so call once, lazily. */
  inverse: () => (string | undefined)[];
  merges: MergeTable;
  endOfWordSuffix: string;
  unk: SpecialToken | null;
  normalizer: Normalizer;
  preTokenizer: PreTokenizer;
  added: AddedToken[];
  bos: SpecialToken;
  eos: SpecialToken;
  pad: SpecialToken;
  contextLength: number;
}

/** CLIP's model_max_length (tokenizer_config.json), used when neither options nor the file give one. */
export const CLIP_CONTEXT_LENGTH = 77;
/** The token strings CLIP's vocab.json + merges.txt format relies on (OpenAI's simple_tokenizer). */
export const CLIP_BOS = '<|startoftext|>';
export const CLIP_EOS = '<|endoftext|>';
/** model_max_length above this is HF's "no limit" sentinel (1e30), not a real context length. */
const MAX_SANE_CONTEXT = 1 << 20;
/** Ids index a dense array and the merge table's Int32Array. */
const MAX_VOCAB_ID = (1 << 24) - 1;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string): AgqgError {
  return new AgqgError('pack_invalid', `tokenizer: ${message}`);
}

function parseJson(input: string | unknown, what: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export function checkContextLength(n: unknown, where: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n > MAX_SANE_CONTEXT)
    throw invalid(
      `${where} must be an integer from 2 (start + end token) to ${MAX_SANE_CONTEXT}, got ${String(n)}`,
    );
  return n;
}

/**
 * The parsed vocab object itself, used as the lookup table and checked entry
 * by entry as entries are used: copying and checking all 49,408 entries up
 * front was a third of the load time, and an entry never looked up cannot
 * change an encoding. Nothing on Object.prototype is a number, so inherited
 * names ("constructor", ...) read as absent.
 */
class ParsedVocab implements Vocab {
  constructor(
    private readonly ids: Json,
    private readonly where: string,
  ) {}

  get(token: string): number | undefined {
    const id = this.ids[token];
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_VOCAB_ID) return id;
    if (id === undefined || !Object.prototype.hasOwnProperty.call(this.ids, token)) return undefined;
    throw invalid(
      `${this.where}: id of ${JSON.stringify(token)} must be an integer from 0 to ${MAX_VOCAB_ID}, got ${JSON.stringify(id)}`,
    );
  }

  /** id → token for every entry (checking them all); holes for unused ids. */
  inverse(): (string | undefined)[] {
    const idToToken: (string | undefined)[] = [];
    for (const token of Object.keys(this.ids)) idToToken[this.get(token) as number] = token;
    return idToToken;
  }
}

function readVocab(raw: unknown, where: string): ParsedVocab {
  if (!isObject(raw)) throw invalid(`${where} must be an object of token → id`);
  for (const _ in raw) return new ParsedVocab(raw, where);
  throw invalid(`${where} is empty`);
}

/** Adds merge `a b` of rank `rank`, or returns the token of it that is not in the vocabulary. */
function addMerge(table: MergeTable, vocab: Vocab, a: string, b: string, rank: number): string | undefined {
  const ia = vocab.get(a);
  if (ia === undefined) return a;
  const ib = vocab.get(b);
  if (ib === undefined) return b;
  const im = vocab.get(a + b);
  if (im === undefined) return a + b;
  table.add(ia, ib, rank, im);
  return undefined;
}

function mergeNotInVocab(where: string, a: string, b: string, missing: string): AgqgError {
  return invalid(
    `${where}: merge "${a} ${b}" uses ${JSON.stringify(missing)}, which is not in the vocabulary`,
  );
}

/** merges.txt: an optional "#version" line, then one "left right" pair per line, best rank first. */
function readMergesText(text: string, vocab: Vocab): MergeTable {
  if (typeof text !== 'string') throw invalid('merges.txt content must be a string');
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const table = new MergeTable(lines.length);
  let rank = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('#version')) continue;
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp === line.length - 1 || line.indexOf(' ', sp + 1) !== -1)
      throw invalid(
        `merges.txt line ${i + 1} must be two tokens separated by one space, got ${JSON.stringify(line)}`,
      );
    const a = line.slice(0, sp);
    const b = line.slice(sp + 1);
    const missing = addMerge(table, vocab, a, b, rank++);
    if (missing !== undefined) throw mergeNotInVocab(`merges.txt line ${i + 1}`, a, b, missing);
  }
  return table;
}

/** tokenizer.json merges: ["a b", ...] (tokenizers < 0.20) or [["a", "b"], ...]. */
function readMergesJson(raw: unknown, vocab: Vocab): MergeTable {
  if (!Array.isArray(raw)) throw invalid('model.merges must be an array');
  const table = new MergeTable(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const m: unknown = raw[i];
    let a: unknown;
    let b: unknown;
    let parts = 0;
    if (typeof m === 'string') {
      const sp = m.indexOf(' ');
      parts = sp < 0 ? 1 : m.indexOf(' ', sp + 1) < 0 ? 2 : 3;
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    } else if (Array.isArray(m)) {
      parts = m.length;
      a = m[0];
      b = m[1];
    }
    if (parts !== 2 || typeof a !== 'string' || typeof b !== 'string' || a === '' || b === '')
      throw invalid(
        `model.merges[${i}] must be "a b" or ["a", "b"] with non-empty tokens, got ${JSON.stringify(m)}`,
      );
    const missing = addMerge(table, vocab, a, b, i);
    if (missing !== undefined) throw mergeNotInVocab(`model.merges[${i}]`, a, b, missing);
  }
  return table;
}

function withAdded(idToToken: (string | undefined)[], added: AddedToken[]): (string | undefined)[] {
  for (const t of added) idToToken[t.id] = t.content;
  return idToToken;
}

function special(vocab: Vocab, added: AddedToken[], token: string, role: string): SpecialToken {
  const id = added.find((t) => t.content === token)?.id ?? vocab.get(token);
  if (id === undefined) throw invalid(`${role} token ${JSON.stringify(token)} is not in the vocabulary`);
  return { token, id };
}

/** [bos, eos] from a RobertaProcessing or a TemplateProcessing "$A" template with one special each side. */
function specialsFromPostProcessor(node: unknown): { bos?: string; eos?: string } {
  if (!isObject(node)) return {};
  if (node.type === 'RobertaProcessing' || node.type === 'BertProcessing') {
    const cls = node.cls;
    const sep = node.sep;
    if (
      !Array.isArray(cls) ||
      typeof cls[0] !== 'string' ||
      !Array.isArray(sep) ||
      typeof sep[0] !== 'string'
    )
      throw invalid(`post_processor ${node.type} needs cls and sep as [token, id]`);
    return { bos: cls[0], eos: sep[0] };
  }
  if (node.type === 'TemplateProcessing' && Array.isArray(node.single)) {
    const items = node.single as unknown[];
    const specialId = (item: unknown): string | undefined => {
      if (!isObject(item) || !isObject(item.SpecialToken)) return undefined;
      const id = item.SpecialToken.id;
      return typeof id === 'string' ? id : undefined;
    };
    if (items.length === 3) return { bos: specialId(items[0]), eos: specialId(items[2]) };
    throw invalid('post_processor TemplateProcessing must be "<bos> $A <eos>"');
  }
  throw invalid(`post_processor type ${JSON.stringify(node.type)} is not supported`);
}

function readAddedTokens(raw: unknown): AddedToken[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('added_tokens must be an array');
  return raw.map((t: unknown, i) => {
    const where = `added_tokens[${i}]`;
    if (
      !isObject(t) ||
      typeof t.content !== 'string' ||
      t.content === '' ||
      typeof t.id !== 'number' ||
      !Number.isInteger(t.id) ||
      t.id < 0 ||
      t.id > MAX_VOCAB_ID
    )
      throw invalid(`${where} needs a non-empty content string and an integer id from 0 to ${MAX_VOCAB_ID}`);
    // These change where an added token matches; CLIP uses none of them.
    for (const flag of ['lstrip', 'rstrip', 'single_word', 'normalized'] as const)
      if (t[flag] === true) throw invalid(`${where} (${t.content}): ${flag}=true is not supported`);
    return { content: t.content, id: t.id, special: t.special === true };
  });
}

export function specFromTokenizerJson(
  input: string | unknown,
  options: TokenizerOptions = {},
): TokenizerSpec {
  const json = parseJson(input, 'tokenizer.json');
  if (!isObject(json)) throw invalid('tokenizer.json must be a JSON object');
  const model = json.model;
  if (!isObject(model) || model.type !== 'BPE') throw invalid('tokenizer.json model.type must be "BPE"');
  if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0)
    throw invalid('BPE dropout is not supported (encoding would not be deterministic)');
  if (typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '')
    throw invalid('BPE continuing_subword_prefix is not supported');
  if (model.byte_fallback === true) throw invalid('BPE byte_fallback is not supported');
  if (!hasByteLevel(json.pre_tokenizer)) throw invalid('pre_tokenizer must include a ByteLevel stage');

  const vocab = readVocab(model.vocab, 'model.vocab');
  const merges = readMergesJson(model.merges, vocab);
  const added = readAddedTokens(json.added_tokens);
  const suffix = typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : '';
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : null;

  const fromPost = specialsFromPostProcessor(json.post_processor);
  const bosToken = options.bos ?? fromPost.bos;
  const eosToken = options.eos ?? fromPost.eos;
  if (bosToken === undefined || eosToken === undefined)
    throw invalid('no start/end tokens: the post_processor names none and none were given');
  const padding = isObject(json.padding) ? json.padding : {};
  // HF CLIP's tokenizer_config pads with its end token; tokenizer.json usually has no padding section.
  const padToken = options.pad ?? (typeof padding.pad_token === 'string' ? padding.pad_token : eosToken);
  const truncation = isObject(json.truncation) ? json.truncation : {};
  const contextLength = checkContextLength(
    options.contextLength ??
      (typeof truncation.max_length === 'number' ? truncation.max_length : CLIP_CONTEXT_LENGTH),
    'context length',
  );

  return {
    vocab,
    inverse: () => withAdded(vocab.inverse(), added),
    merges,
    endOfWordSuffix: suffix,
    unk: unkToken === null ? null : special(vocab, added, unkToken, 'unk'),
    normalizer: buildNormalizer(json.normalizer),
    preTokenizer: buildPreTokenizer(json.pre_tokenizer),
    added,
    bos: special(vocab, added, bosToken, 'start'),
    eos: special(vocab, added, eosToken, 'end'),
    pad: special(vocab, added, padToken, 'pad'),
    contextLength,
  };
}

/** OpenAI CLIP's vocab.json + merges.txt, with the pipeline CLIP's tokenizer.json describes. */
export function specFromVocabMerges(
  vocabJson: string | Record<string, number>,
  mergesTxt: string,
  options: TokenizerOptions = {},
): TokenizerSpec {
  const vocab = readVocab(parseJson(vocabJson, 'vocab.json'), 'vocab.json');
  const merges = readMergesText(mergesTxt, vocab);
  const bosToken = options.bos ?? CLIP_BOS;
  const eosToken = options.eos ?? CLIP_EOS;
  const padToken = options.pad ?? eosToken;
  const specials = [...new Set([bosToken, eosToken, padToken])];
  const added = specials.map((content) => {
    const id = vocab.get(content);
    if (id === undefined) throw invalid(`vocab.json has no ${JSON.stringify(content)} token`);
    return { content, id, special: true };
  });
  const eos = special(vocab, added, eosToken, 'end');
  return {
    vocab,
    inverse: () => withAdded(vocab.inverse(), added),
    merges,
    endOfWordSuffix: '</w>',
    unk: eos, // OpenAI CLIP's unk token is its end token
    normalizer: buildNormalizer(CLIP_NORMALIZER),
    preTokenizer: buildPreTokenizer(CLIP_PRE_TOKENIZER),
    added,
    bos: special(vocab, added, bosToken, 'start'),
    eos,
    pad: special(vocab, added, padToken, 'pad'),
    contextLength: checkContextLength(options.contextLength ?? CLIP_CONTEXT_LENGTH, 'context length'),
  };
}

/** Options from a HF tokenizer_config.json: special token strings and model_max_length. */
export function tokenizerOptionsFromConfig(input: string | unknown): TokenizerOptions {
  const cfg = parseJson(input, 'tokenizer_config.json');
  if (!isObject(cfg)) throw invalid('tokenizer_config.json must be a JSON object');
  // Special tokens are either plain strings or AddedToken objects {content, ...}.
  const tokenOf = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : isObject(v) && typeof v.content === 'string' ? v.content : undefined;
  const out: TokenizerOptions = {};
  const bos = tokenOf(cfg.bos_token);
  const eos = tokenOf(cfg.eos_token);
  const pad = tokenOf(cfg.pad_token);
  if (bos !== undefined) out.bos = bos;
  if (eos !== undefined) out.eos = eos;
  if (pad !== undefined) out.pad = pad;
  const max = cfg.model_max_length;
  if (typeof max === 'number' && max <= MAX_SANE_CONTEXT)
    out.contextLength = checkContextLength(max, 'model_max_length');
  return out;
}
