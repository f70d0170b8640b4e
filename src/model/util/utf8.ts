// UTF-8 decoding for the pure core. TextDecoder exists in browsers, workers and
// Node, but the core compiles against plain ES2022 (no DOM/Node types), so its
// shape is declared here rather than pulled in from a host library.
import { AgqgError } from '../errors.ts';

interface TextDecoderLike {
  decode(bytes: Uint8Array): string;
}
type TextDecoderCtor = new (label?: string, options?: { fatal?: boolean }) => TextDecoderLike;

let decoder: TextDecoderLike | null = null;

/** Bytes to text (a leading BOM is dropped; invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  if (!decoder) {
    const Ctor = (globalThis as { TextDecoder?: TextDecoderCtor }).TextDecoder;
    if (!Ctor) throw new AgqgError('internal', 'TextDecoder is not available in this JavaScript environment');
    decoder = new Ctor('utf-8');
  }
  return decoder.decode(bytes);
}
