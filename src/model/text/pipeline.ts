// The normalizer and pre-tokenizer stages of a Hugging Face tokenizer.json,
// limited to what CLIP uses, built from the file's own description. The HF
// library evaluates its patterns with Oniguruma, whose \s differs from
// JavaScript's (it has U+0085, JS has U+FEFF instead), so patterns are
// translated rather than passed through.

import { AgqgError } from '../errors.ts';

/** Oniguruma's Unicode \s: U+0009-000D, U+0085 and the Zs, Zl, Zp categories. */
const ONIG_SPACE = '\\t-\\r\\u0085\\p{Zs}\\u2028\\u2029';

/**
 * The regex GPT-2's ByteLevel pre-tokenizer applies (use_regex: true) inside
 * each piece; it is a fixed part of that component, not stored in the file.
 */
const BYTE_LEVEL_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** CLIP's Split pattern, for vocab.json + merges.txt which carry no pipeline description. */
export const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/** Translates an Oniguruma pattern to a JS one with flag u, rewriting \s and \S. */
export function onigToJsRegex(pattern: string, flags: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const e = pattern[i + 1];
      i++;
      if (e === 's') out += inClass ? ONIG_SPACE : `[${ONIG_SPACE}]`;
      else if (e === 'S') {
        if (inClass) throw invalid(`pattern ${JSON.stringify(pattern)}: \\S inside a class is not supported`);
        out += `[^${ONIG_SPACE}]`;
      } else if (e === undefined) throw invalid(`pattern ${JSON.stringify(pattern)} ends with a backslash`);
      else out += c + e;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  try {
    return new RegExp(out, flags.includes('u') ? flags : flags + 'u');
  } catch (err) {
    throw invalid(`pattern ${JSON.stringify(pattern)} is not supported: ${(err as Error).message}`);
  }
}

function invalid(message: string): AgqgError {
  return new AgqgError('pack_invalid', `tokenizer: ${message}`);
}

export type Normalizer = (text: string) => string;

/**
 * Lowercases code point by code point, as Rust's char::to_lowercase does: JS
 * toLowerCase applies the context-sensitive final-sigma rule (Σ→ς), HF never does.
 */
export function lowercasePerChar(text: string): string {
  if (!text.includes('\u03a3')) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function patternOf(node: Json, where: string): { regex: RegExp } | { literal: string } {
  const p = node.pattern;
  if (isObject(p) && typeof p.Regex === 'string') return { regex: onigToJsRegex(p.Regex, 'g') };
  if (isObject(p) && typeof p.String === 'string') return { literal: p.String };
  throw invalid(`${where}.pattern must be {"Regex": string} or {"String": string}`);
}

/** Builds the normalizer described by tokenizer.json's "normalizer" (null means identity). */
export function buildNormalizer(node: unknown, where = 'normalizer'): Normalizer {
  if (node === null || node === undefined) return (t) => t;
  if (!isObject(node)) throw invalid(`${where} must be an object or null`);
  switch (node.type) {
    case 'Sequence': {
      if (!Array.isArray(node.normalizers)) throw invalid(`${where}.normalizers must be an array`);
      const steps = node.normalizers.map((n, i) => buildNormalizer(n, `${where}.normalizers[${i}]`));
      return (t) => steps.reduce((acc, f) => f(acc), t);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = node.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      return lowercasePerChar;
    case 'Replace': {
      if (typeof node.content !== 'string') throw invalid(`${where}.content must be a string`);
      const content = node.content;
      const pat = patternOf(node, where);
      // A function replacer so "$" in the content is never read as a group reference.
      if ('regex' in pat) return (t) => t.replace(pat.regex, () => content);
      return (t) => t.split(pat.literal).join(content);
    }
    default:
      throw invalid(`${where}: normalizer type ${JSON.stringify(node.type)} is not supported`);
  }
}

export type PreTokenizer = (text: string) => string[];

function matchesOf(regex: RegExp, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(regex)) if (m[0].length > 0) out.push(m[0]);
  return out;
}

/**
 * Splits like HF's Split with invert=true + behavior Removed: the pattern's
 * matches are the pieces, everything between them is dropped.
 */
function splitKeepingMatches(regex: RegExp): PreTokenizer {
  return (t) => matchesOf(regex, t);
}

/**
 * The pre-tokenizer stages before byte-level mapping. The ByteLevel stage's
 * own regex split is included here; its byte mapping is done by the caller.
 */
export function buildPreTokenizer(node: unknown, where = 'pre_tokenizer'): PreTokenizer {
  if (node === null || node === undefined) return (t) => (t.length > 0 ? [t] : []);
  if (!isObject(node)) throw invalid(`${where} must be an object or null`);
  switch (node.type) {
    case 'Sequence': {
      if (!Array.isArray(node.pretokenizers)) throw invalid(`${where}.pretokenizers must be an array`);
      const steps = node.pretokenizers.map((n, i) => buildPreTokenizer(n, `${where}.pretokenizers[${i}]`));
      return (t) => steps.reduce<string[]>((pieces, f) => pieces.flatMap(f), t.length > 0 ? [t] : []);
    }
    case 'Split': {
      const pat = patternOf(node, where);
      const regex =
        'regex' in pat ? pat.regex : new RegExp(pat.literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
      // CLIP keeps the pattern's matches; other Split modes are not needed by any supported model.
      if (node.invert !== true || node.behavior !== 'Removed')
        throw invalid(`${where}: only Split with invert=true and behavior "Removed" is supported`);
      return splitKeepingMatches(regex);
    }
    case 'ByteLevel': {
      if (node.add_prefix_space === true)
        throw invalid(`${where}: ByteLevel add_prefix_space=true is not supported`);
      if (node.use_regex === false) return (t) => [t];
      return splitKeepingMatches(onigToJsRegex(BYTE_LEVEL_PATTERN, 'g'));
    }
    default:
      throw invalid(`${where}: pre-tokenizer type ${JSON.stringify(node.type)} is not supported`);
  }
}

/** True when the pre-tokenizer description ends in a ByteLevel stage (bytes are mapped after it). */
export function hasByteLevel(node: unknown): boolean {
  if (!isObject(node)) return false;
  if (node.type === 'ByteLevel') return true;
  return (
    node.type === 'Sequence' && Array.isArray(node.pretokenizers) && node.pretokenizers.some(hasByteLevel)
  );
}

/** CLIP's pipeline, as in its tokenizer.json, for the vocab.json + merges.txt format. */
export const CLIP_NORMALIZER = {
  type: 'Sequence',
  normalizers: [
    { type: 'NFC' },
    { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
    { type: 'Lowercase' },
  ],
} as const;

export const CLIP_PRE_TOKENIZER = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  ],
} as const;
