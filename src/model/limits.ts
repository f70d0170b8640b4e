// Input limits shared by the page, the worker and the CLI.

/** Images above this many pixels are refused before decoding (a 12000×12000 RGBA image is 576 MB). */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Files above this many bytes are refused before decoding. */
export const MAX_IMAGE_BYTES = 100 * 1024 * 1024;
