// promptVerdict on hand-made prompts: the order of the rules (no text encoder
// first, then no prompt, blank, too long), characters counted as code points,
// and the prompt handed on as given.
import { describe, expect, it } from 'vitest';
import { MAX_PROMPT_CHARS } from '../src/model/limits.ts';
import {
  codePoints,
  NOTE_EMPTY_PROMPT,
  NOTE_NO_PROMPT,
  NOTE_NO_TEXT_ENCODER,
  promptVerdict,
  truncatedNote,
  withNote,
} from '../src/model/scoring/prompt-verdict.ts';

describe('promptVerdict', () => {
  it('skips alignment without a text encoder, noting it only when a prompt was given', () => {
    expect(promptVerdict(null, false)).toEqual({ action: 'skip', note: null });
    expect(promptVerdict('a cat', false)).toEqual({ action: 'skip', note: NOTE_NO_TEXT_ENCODER });
    // The missing encoder is the reason even for a prompt that would be refused.
    expect(promptVerdict('', false)).toEqual({ action: 'skip', note: NOTE_NO_TEXT_ENCODER });
    expect(promptVerdict('x'.repeat(MAX_PROMPT_CHARS + 1), false)).toEqual({
      action: 'skip',
      note: NOTE_NO_TEXT_ENCODER,
    });
  });

  it('skips a missing or blank prompt with its note', () => {
    expect(promptVerdict(null, true)).toEqual({ action: 'skip', note: NOTE_NO_PROMPT });
    expect(promptVerdict('', true)).toEqual({ action: 'skip', note: NOTE_EMPTY_PROMPT });
    expect(promptVerdict('  \t\n ', true)).toEqual({ action: 'skip', note: NOTE_EMPTY_PROMPT });
    // Blank beats too long: a prompt of only spaces says it is empty.
    expect(promptVerdict(' '.repeat(MAX_PROMPT_CHARS + 1), true)).toEqual({
      action: 'skip',
      note: NOTE_EMPTY_PROMPT,
    });
  });

  it('embeds a usable prompt as given, untrimmed', () => {
    expect(promptVerdict(' a cat\n', true)).toEqual({ action: 'embed', prompt: ' a cat\n' });
    const atLimit = 'x'.repeat(MAX_PROMPT_CHARS);
    expect(promptVerdict(atLimit, true)).toEqual({ action: 'embed', prompt: atLimit });
  });

  it(`refuses a prompt over ${MAX_PROMPT_CHARS} characters with prompt_too_long`, () => {
    const n = MAX_PROMPT_CHARS + 1;
    const message = `prompt has ${n} characters, over the limit of ${MAX_PROMPT_CHARS}`;
    expect(promptVerdict('x'.repeat(n), true)).toEqual({
      action: 'refuse',
      error: { code: 'prompt_too_long', message },
      note: `${message}; alignment not graded (quality does not use the prompt)`,
    });
  });

  it('counts characters as code points, not UTF-16 units', () => {
    // '😀' is two UTF-16 units: MAX_PROMPT_CHARS of them are 2 * MAX_PROMPT_CHARS units.
    expect('😀'.length).toBe(2);
    const emoji = '😀'.repeat(MAX_PROMPT_CHARS);
    expect(promptVerdict(emoji, true)).toEqual({ action: 'embed', prompt: emoji });
    const over = promptVerdict(`${emoji}a`, true);
    expect(over.action).toBe('refuse');
    expect(over.action === 'refuse' && over.error.message).toBe(
      `prompt has ${MAX_PROMPT_CHARS + 1} characters, over the limit of ${MAX_PROMPT_CHARS}`,
    );
    expect(codePoints('a😀b')).toBe(3);
  });
});

describe('prompt notes', () => {
  it('names the context length a prompt was truncated to', () => {
    expect(truncatedNote(77)).toBe(
      "prompt is longer than the text encoder's 77 tokens: truncated to the first 77 as CLIP does",
    );
  });

  it('appends a note to another, or stands alone', () => {
    expect(withNote(null, 'b')).toBe('b');
    expect(withNote('', 'b')).toBe('b');
    expect(withNote('a', 'b')).toBe('a; b');
  });
});
