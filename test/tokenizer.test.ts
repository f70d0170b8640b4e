import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import { ClipTokenizer, tokenizerOptionsFromConfig } from '../src/model/text/tokenizer.ts';
import { BYTE_TO_CHAR, utf8DecodeLossy, utf8Encode } from '../src/model/text/byte-level.ts';
import { describeShared, sharedPath } from './shared.ts';

interface RefPrompt {
  text: string;
  input_ids: number[];
  attention_mask: number[];
  ids_untruncated_len: number;
}

const read = (...p: string[]): string => readFileSync(sharedPath(...p), 'utf8');

function expectAgqgError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AgqgError);
    expect((err as AgqgError).code).toBe(code);
    expect((err as AgqgError).message).toMatch(message);
    return;
  }
  throw new Error('expected an AgqgError');
}

describeShared(
  'ClipTokenizer against the Hugging Face fast tokenizer references',
  [
    'fixtures/tiny-clip/tokenizer.json',
    'fixtures/tiny-clip/tokenizer_config.json',
    'fixtures/tiny-clip/vocab.json',
    'fixtures/tiny-clip/merges.txt',
    'fixtures/tiny-clip-refs/refs.json',
    'clip-tokenizer/vocab.json',
    'clip-tokenizer/merges.txt',
  ],
  () => {
    let prompts: RefPrompt[];
    const loaders: Record<string, ClipTokenizer> = {};
    let tok: ClipTokenizer;

    beforeAll(() => {
      prompts = (JSON.parse(read('fixtures/tiny-clip-refs/refs.json')) as { prompts: RefPrompt[] }).prompts;
      loaders['tokenizer.json'] = ClipTokenizer.fromTokenizerJson(read('fixtures/tiny-clip/tokenizer.json'));
      loaders['tokenizer.json + tokenizer_config.json'] = ClipTokenizer.fromTokenizerJson(
        JSON.parse(read('fixtures/tiny-clip/tokenizer.json')),
        tokenizerOptionsFromConfig(read('fixtures/tiny-clip/tokenizer_config.json')),
      );
      loaders['tiny-clip vocab.json + merges.txt'] = ClipTokenizer.fromVocabMerges(
        read('fixtures/tiny-clip/vocab.json'),
        read('fixtures/tiny-clip/merges.txt'),
      );
      loaders['clip-tokenizer vocab.json + merges.txt'] = ClipTokenizer.fromVocabMerges(
        JSON.parse(read('clip-tokenizer/vocab.json')) as Record<string, number>,
        read('clip-tokenizer/merges.txt'),
      );
      tok = loaders['tokenizer.json'];
    });

    it('covers the edge cases the brief names', () => {
      const texts = prompts.map((p) => p.text);
      expect(texts).toContain('');
      expect(texts.some((t) => /\n/.test(t) && /\t/.test(t))).toBe(true);
      expect(texts.some((t) => /\p{Script=Han}/u.test(t))).toBe(true);
      expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true);
      expect(texts.some((t) => t.includes('&amp;'))).toBe(true);
      expect(prompts.some((p) => p.ids_untruncated_len > p.input_ids.length)).toBe(true);
    });

    for (const name of [
      'tokenizer.json',
      'tokenizer.json + tokenizer_config.json',
      'tiny-clip vocab.json + merges.txt',
      'clip-tokenizer vocab.json + merges.txt',
    ]) {
      it(`matches input_ids and attention_mask of every reference prompt (${name})`, () => {
        const t = loaders[name];
        for (const p of prompts) {
          const e = t.encode(p.text);
          expect(e.inputIds, JSON.stringify(p.text)).toEqual(p.input_ids);
          expect(e.attentionMask, JSON.stringify(p.text)).toEqual(p.attention_mask);
          const real = p.attention_mask.filter((m) => m === 1).length;
          expect(e.length, JSON.stringify(p.text)).toBe(real);
          expect(e.truncated, JSON.stringify(p.text)).toBe(p.ids_untruncated_len > p.input_ids.length);
        }
      });
    }

    it('takes its special ids from the files: start, end, and the end token as padding', () => {
      const cfg = tokenizerOptionsFromConfig(read('fixtures/tiny-clip/tokenizer_config.json'));
      const vocab = JSON.parse(read('fixtures/tiny-clip/vocab.json')) as Record<string, number>;
      for (const t of Object.values(loaders)) {
        expect(t.bosId).toBe(vocab[cfg.bos as string]);
        expect(t.eosId).toBe(vocab[cfg.eos as string]);
        expect(t.padId).toBe(vocab[cfg.pad as string]);
        expect(t.vocabSize).toBe(Object.keys(vocab).length);
        expect(t.contextLength).toBe(cfg.contextLength);
      }
      const empty = prompts.find((p) => p.text === '') as RefPrompt;
      expect(empty.input_ids[0]).toBe(tok.bosId);
      expect(empty.input_ids[1]).toBe(tok.eosId);
      expect(empty.input_ids[2]).toBe(tok.padId);
    });

    it('tokenizes into BPE tokens with the end-of-word suffix and no specials', () => {
      expect(tok.tokenize('a photo of a cat')).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>']);
      expect(tok.tokenize('')).toEqual([]);
      expect(tok.tokenize(' \n\t ')).toEqual([]);
    });

    it('truncates a 300-character prompt to 77 with the end token last', () => {
      // "a photo of a cat" is 5 single-token words (ids from refs.json's first prompt).
      const ref = prompts.find((p) => p.text === 'a photo of a cat') as RefPrompt;
      const wordIds = ref.input_ids.slice(1, 6);
      const text = 'a photo of a cat '.repeat(18).slice(0, 300);
      expect(text.length).toBe(300);
      const e = tok.encode(text);
      expect(e.truncated).toBe(true);
      expect(e.length).toBe(77);
      expect(e.inputIds).toHaveLength(77);
      expect(e.attentionMask).toEqual(new Array(77).fill(1));
      expect(e.inputIds[0]).toBe(tok.bosId);
      expect(e.inputIds[76]).toBe(tok.eosId);
      const body = Array.from({ length: 75 }, (_, i) => wordIds[i % 5]);
      expect(e.inputIds.slice(1, 76)).toEqual(body);
    });

    it('truncates only past the context: 75 body tokens fit exactly, 76 do not', () => {
      const fit = tok.encode('cat '.repeat(75));
      expect(fit.truncated).toBe(false);
      expect(fit.length).toBe(77);
      expect(fit.inputIds[76]).toBe(tok.eosId);
      expect(fit.inputIds[75]).toBe(tok.encode('cat').inputIds[1]);
      const over = tok.encode('cat '.repeat(76));
      expect(over.truncated).toBe(true);
      expect(over.inputIds).toEqual(fit.inputIds);
    });

    it('honours a smaller context length', () => {
      const e = tok.encode('a photo of a cat', 4);
      expect(e.inputIds).toEqual([tok.bosId, ...tok.encode('a photo').inputIds.slice(1, 3), tok.eosId]);
      expect(e.attentionMask).toEqual([1, 1, 1, 1]);
      expect(e.truncated).toBe(true);
      const roomy = tok.encode('cat', 6);
      expect(roomy.inputIds).toEqual([
        tok.bosId,
        roomy.inputIds[1],
        tok.eosId,
        tok.padId,
        tok.padId,
        tok.padId,
      ]);
      expect(roomy.attentionMask).toEqual([1, 1, 1, 0, 0, 0]);
    });

    it('encodes a batch as row-major int64 tensors', () => {
      const texts = prompts.slice(0, 3).map((p) => p.text);
      const b = tok.encodeBatch(texts);
      expect(b.dims).toEqual([3, 77]);
      expect(b.inputIds).toBeInstanceOf(BigInt64Array);
      expect(b.attentionMask).toBeInstanceOf(BigInt64Array);
      expect(b.inputIds.length).toBe(3 * 77);
      for (let r = 0; r < 3; r++) {
        expect(Array.from(b.inputIds.subarray(r * 77, (r + 1) * 77), Number)).toEqual(prompts[r].input_ids);
        expect(Array.from(b.attentionMask.subarray(r * 77, (r + 1) * 77), Number)).toEqual(
          prompts[r].attention_mask,
        );
        expect(b.items[r].inputIds).toEqual(prompts[r].input_ids);
      }
      expect(b.inputIds[77]).toBe(BigInt(prompts[1].input_ids[0]));
      expect(tok.encodeBatch(['x'], 5).dims).toEqual([1, 5]);
      expect(tok.encodeBatch([]).dims).toEqual([0, 77]);
    });

    it('decodes ids back to the normalized text', () => {
      for (const text of [
        'a photo of a cat',
        'café naïve résumé',
        '東京の夜景',
        'a 🐶 wearing 😎 sunglasses',
      ]) {
        expect(tok.decode(tok.encode(text).inputIds)).toBe(text);
      }
      expect(tok.decode(tok.encode('UPPER lower').inputIds)).toBe('upper lower');
      // Word ends become spaces, so punctuation is spaced out, as transformers' CLIP tokenizers decode.
      expect(tok.decode(tok.encode('Hello, world!').inputIds)).toBe('hello , world !');
      // 京 (E4 BA AC) is split across two byte-level tokens; half of it decodes to U+FFFD, not an exception.
      const kyo = tok.encode('京').inputIds.slice(1, 3);
      expect(tok.tokenize('京')).toEqual(['\u00e4\u00ba', '\u00ac</w>']);
      expect(tok.decode(kyo)).toBe('京');
      expect(tok.decode([kyo[0]])).toBe('\ufffd');
      expectAgqgError(() => tok.decode([tok.vocabSize]), 'internal', /not in the vocabulary/);
      expectAgqgError(() => tok.decode([1.5]), 'internal', /not in the vocabulary/);
    });

    it('cuts special tokens out of the raw text like the fast tokenizer, case-sensitively', () => {
      const a = tok.encode('a').inputIds[1];
      const b = tok.encode('b').inputIds[1];
      expect(tok.encode('a<|endoftext|>b').inputIds.slice(0, 6)).toEqual([
        tok.bosId,
        a,
        tok.eosId,
        b,
        tok.eosId,
        tok.padId,
      ]);
      expect(tok.tokenize('a <|startoftext|>')).toEqual(['a</w>', '<|startoftext|>']);
      // Not an added-token match (case differs), so it is lowercased and byte-level split like any text.
      expect(tok.tokenize('<|STARTOFTEXT|>')).toEqual([
        '<',
        '|</w>',
        'star',
        'tof',
        'text</w>',
        '|',
        '></w>',
      ]);
    });

    it('lowercases per character, without the final-sigma rule', () => {
      expect(tok.tokenize('ΣΑΣ')).toEqual(tok.tokenize('σασ'));
      expect(tok.tokenize('ΣΑΣ')).not.toEqual(tok.tokenize('σας'));
    });

    it('treats whitespace as Oniguruma does (U+0085 is a space, U+FEFF is not)', () => {
      expect(tok.tokenize('cat\u0085dog')).toEqual(tok.tokenize('cat dog'));
      expect(tok.tokenize('cat\u3000dog')).toEqual(tok.tokenize('cat dog'));
      // U+FEFF is JavaScript whitespace but not Oniguruma's: it stays, as a symbol piece of its own.
      expect(tok.tokenize('\ufeff').length).toBeGreaterThan(0);
      expect(tok.tokenize('cat\ufeffdog')).toEqual([
        ...tok.tokenize('cat'),
        ...tok.tokenize('\ufeff'),
        ...tok.tokenize('dog'),
      ]);
    });

    it('composes to NFC before splitting', () => {
      expect(tok.tokenize('cafe\u0301')).toEqual(tok.tokenize('caf\u00e9'));
    });
  },
);

describe('byte-level alphabet and UTF-8', () => {
  it('maps bytes like GPT-2 bytes_to_unicode', () => {
    expect(BYTE_TO_CHAR).toHaveLength(256);
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x21]).toBe('!');
    expect(BYTE_TO_CHAR[0x7e]).toBe('~');
    expect(BYTE_TO_CHAR[0x20]).toBe('\u0120'); // "Ġ", GPT-2's space
    expect(BYTE_TO_CHAR[0x0a]).toBe('\u010a'); // "Ċ", newline
    expect(BYTE_TO_CHAR[0x00]).toBe('\u0100');
    expect(BYTE_TO_CHAR[0xad]).toBe('\u0143'); // soft hyphen is the last unprintable
    expect(BYTE_TO_CHAR[0xae]).toBe('\u00ae');
  });

  it('encodes and decodes UTF-8, replacing invalid sequences', () => {
    expect(utf8Encode('é🐶')).toEqual([0xc3, 0xa9, 0xf0, 0x9f, 0x90, 0xb6]);
    expect(utf8DecodeLossy([0xc3, 0xa9, 0xf0, 0x9f, 0x90, 0xb6])).toBe('é🐶');
    expect(utf8DecodeLossy([0xf0, 0x9f, 0x90])).toBe('\ufffd');
    expect(utf8DecodeLossy([0x61, 0xff, 0x62])).toBe('a\ufffdb');
    expect(utf8DecodeLossy([0xf0, 0x9f, 0x41])).toBe('\ufffdA');
    expect(utf8DecodeLossy([0xed, 0xa0, 0x80])).toBe('\ufffd\ufffd\ufffd'); // surrogate code point
  });
});

/** A tiny tokenizer.json in CLIP's shape, with hand-chosen merges. */
function tinyTokenizerJson(
  merges: [string, string][],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (const t of [
    'a',
    'b',
    'c',
    'a</w>',
    'b</w>',
    'c</w>',
    'ab',
    'bc</w>',
    'abc</w>',
    'ab</w>',
    '<s>',
    '</s>',
    'aa',
  ])
    vocab[t] = Object.keys(vocab).length;
  return {
    added_tokens: [
      {
        id: vocab['<s>'],
        content: '<s>',
        special: true,
        normalized: false,
        lstrip: false,
        rstrip: false,
        single_word: false,
      },
      {
        id: vocab['</s>'],
        content: '</s>',
        special: true,
        normalized: false,
        lstrip: false,
        rstrip: false,
        single_word: false,
      },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "'s|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', vocab['</s>']], cls: ['<s>', vocab['<s>']] },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '</s>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      vocab,
      merges,
    },
    ...extra,
  };
}

describe('ClipTokenizer on a hand-built tokenizer.json', () => {
  it('merges the lowest-ranked pair first', () => {
    // "abc" = a b c</w>. With "b c</w>" ranked first: a + bc</w> -> abc</w>.
    const t1 = ClipTokenizer.fromTokenizerJson(
      tinyTokenizerJson([
        ['b', 'c</w>'],
        ['a', 'b'],
        ['a', 'bc</w>'],
      ]),
    );
    expect(t1.tokenize('abc')).toEqual(['abc</w>']);
    // With "a b" ranked first: ab + c</w>, and "ab c</w>" is no merge here.
    const t2 = ClipTokenizer.fromTokenizerJson(
      tinyTokenizerJson([
        ['a', 'b'],
        ['b', 'c</w>'],
        ['a', 'bc</w>'],
      ]),
    );
    expect(t2.tokenize('abc')).toEqual(['ab', 'c</w>']);
    // Old "a b" string form of merges gives the same table.
    const t3 = ClipTokenizer.fromTokenizerJson(tinyTokenizerJson(['a b', 'b c</w>', 'a bc</w>'] as never));
    expect(t3.tokenize('ABC')).toEqual(['ab', 'c</w>']);
    expect(t2.encode('abc ab', 6)).toEqual({
      inputIds: [10, 6, 5, 0, 4, 11],
      attentionMask: [1, 1, 1, 1, 1, 1],
      length: 6,
      truncated: false,
    });
  });

  it('merges equal-ranked pairs leftmost first, also across a long word', () => {
    const t = ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([['a', 'a']]));
    // a a a a</w>: "a a" occurs at 0 and 1; the left one wins and consumes the second "a".
    expect(t.tokenize('aaaa')).toEqual(['aa', 'a', 'a</w>']);
    expect(t.tokenize('aaaaaa')).toEqual(['aa', 'aa', 'a', 'a</w>']);
    // 20,000 symbols in one word: 19,999 "a" pair up into 9,999 "aa" and one "a", then "a</w>".
    const long = t.tokenize('a'.repeat(20_000));
    expect(long).toEqual([...new Array<string>(9_999).fill('aa'), 'a', 'a</w>']);
  });

  it('maps characters outside the vocabulary to the unk token', () => {
    const t = ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([['a', 'b']]));
    expect(t.encode('a z', 5).inputIds).toEqual([10, 3, 11, 11, 11]);
    expect(t.encode('a z', 5).attentionMask).toEqual([1, 1, 1, 1, 0]);
  });

  it('reads vocab.json + merges.txt with its version line and CRLF endings', () => {
    const json = tinyTokenizerJson([]);
    const vocab = (json.model as { vocab: Record<string, number> }).vocab;
    const t = ClipTokenizer.fromVocabMerges(vocab, '#version: 0.2\r\nb c</w>\r\na bc</w>\r\n', {
      bos: '<s>',
      eos: '</s>',
    });
    expect(t.tokenize('abc')).toEqual(['abc</w>']);
    expect([t.bosId, t.eosId, t.padId]).toEqual([10, 11, 11]);
  });

  it('refuses bad tokenizer files with specific errors', () => {
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson('{not json'),
      'pack_invalid',
      /tokenizer\.json is not valid JSON/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([['a', 'q']])),
      'pack_invalid',
      /model\.merges\[0\].*"q", which is not in the vocabulary/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([['c', 'a']])),
      'pack_invalid',
      /"ca", which is not in the vocabulary/,
    );
    expectAgqgError(
      () =>
        ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([], { normalizer: { type: 'BertNormalizer' } })),
      'pack_invalid',
      /normalizer type "BertNormalizer" is not supported/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([], { pre_tokenizer: { type: 'Whitespace' } })),
      'pack_invalid',
      /ByteLevel/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson({ ...tinyTokenizerJson([]), model: { type: 'WordPiece' } }),
      'pack_invalid',
      /model\.type must be "BPE"/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([]), { pad: '<pad>' }),
      'pack_invalid',
      /pad token "<pad>" is not in the vocabulary/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromVocabMerges('{"a": -1, "b": 1, "ab": 2}', 'a b'),
      'pack_invalid',
      /id of "a" must be an integer/,
    );
    // Entries are checked when used: a bad one no merge or special token uses surfaces on the first full scan.
    const lazy = ClipTokenizer.fromVocabMerges(
      { '<|startoftext|>': 0, '<|endoftext|>': 1, a: 2, 'a</w>': 3, b: '4' as unknown as number },
      '',
    );
    expect(lazy.encode('a', 3).inputIds).toEqual([0, 3, 1]);
    expectAgqgError(() => lazy.vocabSize, 'pack_invalid', /id of "b" must be an integer/);
    expectAgqgError(() => ClipTokenizer.fromVocabMerges('{}', ''), 'pack_invalid', /vocab\.json is empty/);
    expectAgqgError(
      () => ClipTokenizer.fromVocabMerges({ a: 0, b: 1 }, '#version: 0.2\na b\n'),
      'pack_invalid',
      /merges\.txt line 2: merge "a b" uses "ab", which is not in the vocabulary/,
    );
    expectAgqgError(
      () =>
        ClipTokenizer.fromVocabMerges(
          { a: 0, b: 1, ab: 2, '<|startoftext|>': 3, '<|endoftext|>': 4 },
          'a  b\n',
        ),
      'pack_invalid',
      /merges\.txt line 1 must be two tokens/,
    );
    expectAgqgError(
      () => ClipTokenizer.fromVocabMerges({ a: 0 }, ''),
      'pack_invalid',
      /no "<\|startoftext\|>" token/,
    );
  });

  it('refuses a context length that cannot hold the start and end tokens', () => {
    const t = ClipTokenizer.fromTokenizerJson(tinyTokenizerJson([]));
    expectAgqgError(() => t.encode('a', 1), 'pack_invalid', /context length must be an integer from 2/);
    expectAgqgError(() => t.encodeBatch(['a'], 7.5), 'pack_invalid', /context length/);
    expect(t.encode('abc', 2)).toEqual({
      inputIds: [10, 11],
      attentionMask: [1, 1],
      length: 2,
      truncated: true,
    });
    expect(t.encode('', 2)).toEqual({
      inputIds: [10, 11],
      attentionMask: [1, 1],
      length: 2,
      truncated: false,
    });
  });
});
