// What a prompt lets alignment do, decided before any encoder runs: embed it,
// skip alignment with a note saying why, or refuse it with an error the result
// carries. Quality never reads the prompt, so none of these stops it.
import type { ErrorInfo } from '../errors.ts';
import { MAX_PROMPT_CHARS } from '../limits.ts';

export const NOTE_EMPTY_PROMPT = 'prompt is empty: alignment needs the prompt that made the image';
export const NOTE_NO_PROMPT = 'no prompt given: alignment needs the prompt that made the image';
export const NOTE_NO_TEXT_ENCODER = 'this pack has no text encoder; alignment needs a CLIP pack';
export const NOTE_NO_ALIGNMENT_HEAD = 'this pack has no alignment head';

export type PromptVerdict =
  /** A usable prompt: encode it (as given, untrimmed) and grade alignment. */
  | { action: 'embed'; prompt: string }
  /** Alignment is not graded; `note` says why (null when no prompt was given to a pack without text). */
  | { action: 'skip'; note: string | null }
  /** The prompt itself is refused (prompt_too_long); `note` repeats why for the card. */
  | { action: 'refuse'; error: ErrorInfo; note: string };

/** Characters as people count them (an emoji is one, not two UTF-16 units). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The verdict on `prompt` for a pack with (hasText) or without a text encoder. */
export function promptVerdict(prompt: string | null, hasText: boolean): PromptVerdict {
  if (!hasText) return { action: 'skip', note: prompt !== null ? NOTE_NO_TEXT_ENCODER : null };
  if (prompt === null) return { action: 'skip', note: NOTE_NO_PROMPT };
  if (prompt.trim() === '') return { action: 'skip', note: NOTE_EMPTY_PROMPT };
  // The UTF-16 length bounds the code points from above: most prompts never count them.
  if (prompt.length > MAX_PROMPT_CHARS && codePoints(prompt) > MAX_PROMPT_CHARS) {
    const message = `prompt has ${codePoints(prompt)} characters, over the limit of ${MAX_PROMPT_CHARS}`;
    return {
      action: 'refuse',
      error: { code: 'prompt_too_long', message },
      note: `${message}; alignment not graded (quality does not use the prompt)`,
    };
  }
  return { action: 'embed', prompt };
}

/** The note for a prompt the tokenizer cut to the encoder's context length. */
export function truncatedNote(contextLength: number): string {
  return `prompt is longer than the text encoder's ${contextLength} tokens: truncated to the first ${contextLength} as CLIP does`;
}

/** `note` with `more` after it (either may stand alone). */
export function withNote(note: string | null, more: string): string {
  return note ? `${note}; ${more}` : more;
}
