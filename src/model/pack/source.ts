// Where a pack's bytes come from (a Node folder, HTTP, a local folder in the
// browser), and reading its text and JSON files. Opening a pack (pack.ts) and
// inferring a manifest for a Hugging Face export (hf-clip.ts) both read here.
import { decodeUtf8 } from '../util/utf8.ts';
import { AgqgError } from '../errors.ts';

/** Where a pack's bytes come from; paths are relative to the pack root. */
export interface PackSource {
  /** Human-readable location, used in error messages. */
  readonly location: string;
  /** Resolves null when the file does not exist. */
  readBytes(path: string): Promise<Uint8Array | null>;
  /** Size in bytes, or null when the file does not exist (cheap: no read). */
  size(path: string): Promise<number | null>;
}

async function readText(source: PackSource, path: string): Promise<string | null> {
  const bytes = await source.readBytes(path);
  return bytes === null ? null : decodeUtf8(bytes);
}

/** A JSON file of the source, parsed; null when it does not exist. */
export async function readJson(source: PackSource, path: string): Promise<unknown | null> {
  const text = await readText(source, path);
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AgqgError(
      'pack_invalid',
      `${source.location}/${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
}
