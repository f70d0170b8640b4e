// Input limits shared by the page, the worker and the CLI.

/** Images above this many pixels are refused before decoding (a 12000×12000 RGBA image is 576 MB). */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Files above this many bytes are refused before decoding. */
export const MAX_IMAGE_BYTES = 100 * 1024 * 1024;
/**
 * Prompts above this many characters are refused for alignment (prompt_too_long).
 * CLIP reads at most 77 tokens (roughly 300 characters of English); longer prompts are
 * truncated like CLIP does, but anything this long is pasted text, not a prompt.
 */
export const MAX_PROMPT_CHARS = 4_000;
/** Text embeddings kept per loaded pack; the oldest are dropped past this (a 512-wide embedding is 2 KiB). */
export const MAX_CACHED_TEXTS = 20_000;
/**
 * Images whose shorter side is below this many pixels are graded with a note that the grade
 * says little: the encoders read 224-320 pixel inputs, so such an image is blown up over 7x,
 * and a CLIP ViT-B/32 patch (32 pixels) would hold less than one of its pixels' worth of detail.
 */
export const MIN_USEFUL_IMAGE_EDGE = 32;
