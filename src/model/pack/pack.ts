// Opening a pack from any byte source (a Node folder, HTTP, a local folder in
// the browser): read and validate manifest.json, or infer one from a Hugging
// Face CLIP export, and verify every file against its recorded size and hash.
import { AgqgError } from '../errors.ts';
import { hfClipManifest } from './hf-clip.ts';
import { readJson, type PackSource } from './source.ts';
import { MANIFEST_FILE, parseManifest, type Manifest, type PackFile, type VariantDtype } from './manifest.ts';

// The shells implement a source where they open a pack.
export type { PackSource } from './source.ts';

export interface OpenedPack {
  manifest: Manifest;
  source: PackSource;
}

/** Opens a pack: its manifest.json if present, else a Hugging Face CLIP export's inferred manifest. */
export async function openPack(source: PackSource, fallbackId = 'pack'): Promise<OpenedPack> {
  const json = await readJson(source, MANIFEST_FILE);
  // A manifest.json holding null is there (and wrong), not missing.
  if (json !== null || (await source.size(MANIFEST_FILE)) !== null)
    return { manifest: parseManifest(json, `${source.location}/${MANIFEST_FILE}`), source };
  const inferred = await hfClipManifest(source, fallbackId);
  if (!inferred) {
    throw new AgqgError(
      'pack_invalid',
      `${source.location} is not a pack: it has no ${MANIFEST_FILE} and is not a Hugging Face CLIP export ` +
        '(config.json, preprocessor_config.json, tokenizer.json or vocab.json + merges.txt, onnx/vision_model*.onnx)',
    );
  }
  return { manifest: inferred, source };
}

interface SubtleDigest {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

/** SHA-256 as lower-case hex, with WebCrypto (present in browsers, workers and Node ≥ 19). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleDigest } }).crypto?.subtle;
  if (!subtle)
    throw new AgqgError('internal', 'WebCrypto (crypto.subtle) is not available to hash pack files');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Reads one file of the pack and checks it against the manifest's size and hash. */
export async function readPackFile(pack: OpenedPack, path: string): Promise<Uint8Array> {
  const entry: PackFile | undefined = pack.manifest.files.find((f) => f.path === path);
  const bytes = await pack.source.readBytes(path);
  if (bytes === null) {
    throw new AgqgError(
      'pack_file_missing',
      `${pack.source.location}/${path} is missing (pack "${pack.manifest.id}")`,
    );
  }
  await verifyFile(pack, path, bytes, entry);
  return bytes;
}

export async function verifyFile(
  pack: OpenedPack,
  path: string,
  bytes: Uint8Array,
  entry?: PackFile,
): Promise<void> {
  if (!entry) return;
  const where = `${pack.source.location}/${path}`;
  if (entry.size !== undefined && bytes.byteLength !== entry.size) {
    throw new AgqgError(
      'pack_file_tampered',
      `${where} has ${bytes.byteLength} bytes but the manifest says ${entry.size}: the file is truncated or was changed`,
    );
  }
  if (entry.sha256 !== undefined) {
    const actual = await sha256Hex(bytes);
    if (actual !== entry.sha256) {
      throw new AgqgError(
        'pack_file_tampered',
        `${where} does not match its SHA-256 in the manifest (expected ${entry.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…)`,
      );
    }
  }
}

/** The variant to run: the one asked for if present, else the first preference present, else the first listed. */
export function pickVariant<T extends { dtype: VariantDtype; file: string }>(
  variants: readonly T[],
  wanted: VariantDtype | undefined,
  preference: readonly VariantDtype[],
): T {
  if (variants.length === 0) throw new AgqgError('pack_invalid', 'the encoder lists no ONNX variants');
  if (wanted) {
    const hit = variants.find((v) => v.dtype === wanted);
    if (!hit) {
      throw new AgqgError(
        'pack_invalid',
        `the pack has no ${wanted} variant (it has ${variants.map((v) => v.dtype).join(', ')})`,
      );
    }
    return hit;
  }
  for (const dtype of preference) {
    const hit = variants.find((v) => v.dtype === dtype);
    if (hit) return hit;
  }
  return variants[0];
}
