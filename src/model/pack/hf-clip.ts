// Infers a manifest for a Hugging Face CLIP export folder (config.json,
// preprocessor_config.json, tokenizer.json or vocab.json + merges.txt,
// onnx/vision_model*.onnx, onnx/text_model*.onnx) so such a folder is a pack
// as it is. Without trained heads it grades zero-shot, marked uncalibrated.
import { AgqgError } from '../errors.ts';
import {
  MANIFEST_SCHEMA,
  MANIFEST_VERSION,
  parseManifest,
  type Manifest,
  type ImagesPerRun,
  type ManifestInput,
  type PackFile,
  type VariantDtype,
} from './manifest.ts';
import { readJson, type PackSource } from './source.ts';
import { PreprocessConfigSchema } from '../image/preprocess.ts';
import defaults from './zero-shot-defaults.json' with { type: 'json' };

/**
 * Two images per encoder run on WASM. CLIP ViT-B/32 in Chromium 156 (2 threads, the page's worker,
 * bench/browser-pipeline.ts): at 8 (or 4) per run, after 10-20 runs V8 deoptimised one of
 * onnxruntime's hot wasm functions again and again ("wrong call target") and every run took 2.2x
 * as long for 8-16 runs (1.64 img/s against 3.1-3.4). At 2 per run that never happened in 390
 * runs (at 1: 130), and the page did 2.85-3.33 img/s per drop of 32 against 2.77-3.12 at 1 per
 * run, in the same browser: one worker call, result message and card per two images, not one.
 * WebGPU: the page's default.
 */
export const CLIP_IMAGES_PER_RUN: ImagesPerRun = { wasm: 2 };

/** File-name suffixes of the weight formats, as transformers.js exports name them. */
export const HF_VARIANT_SUFFIXES: ReadonlyArray<readonly [VariantDtype, string]> = [
  ['fp32', ''],
  ['fp16', '_fp16'],
  ['q8', '_quantized'],
  ['int8', '_int8'],
  ['uint8', '_uint8'],
  ['q4', '_q4'],
  ['q4f16', '_q4f16'],
  ['bnb4', '_bnb4'],
];

interface HfClipConfig {
  projection_dim?: number;
  text_config?: { max_position_embeddings?: number; projection_dim?: number };
  vision_config?: { image_size?: number };
  logit_scale_init_value?: number;
}

async function variantsOf(source: PackSource, stem: string, files: PackFile[], role: PackFile['role']) {
  const found: { dtype: VariantDtype; file: string }[] = [];
  for (const [dtype, suffix] of HF_VARIANT_SUFFIXES) {
    const file = `onnx/${stem}${suffix}.onnx`;
    const size = await source.size(file);
    if (size === null) continue;
    found.push({ dtype, file });
    files.push({ path: file, size, role });
  }
  return found;
}

/** Null when the folder is not a Hugging Face CLIP export. */
export async function hfClipManifest(source: PackSource, id: string): Promise<Manifest | null> {
  const config = (await readJson(source, 'config.json')) as HfClipConfig | null;
  const preprocessorJson = await readJson(source, 'preprocessor_config.json');
  if (config === null || preprocessorJson === null) return null;
  const files: PackFile[] = [];
  const add = async (path: string, role: PackFile['role']): Promise<boolean> => {
    const size = await source.size(path);
    if (size === null) return false;
    files.push({ path, size, role });
    return true;
  };
  await add('config.json', 'config');
  await add('preprocessor_config.json', 'config');

  const vision = await variantsOf(source, 'vision_model', files, 'vision');
  if (vision.length === 0) return null;
  const text = await variantsOf(source, 'text_model', files, 'text');

  const preprocess = PreprocessConfigSchema.parse(preprocessorJson);
  const crop = preprocess.crop_size;
  const side = config.vision_config?.image_size ?? 224;
  const height = typeof crop === 'number' ? crop : (crop?.height ?? side);
  const width = typeof crop === 'number' ? crop : (crop?.width ?? side);
  const dim = config.projection_dim ?? config.text_config?.projection_dim ?? 512;

  let tokenizer: { tokenizerJson: string } | { vocab: string; merges: string } | null = null;
  if (await add('tokenizer.json', 'tokenizer')) tokenizer = { tokenizerJson: 'tokenizer.json' };
  else if ((await add('vocab.json', 'tokenizer')) && (await add('merges.txt', 'tokenizer'))) {
    tokenizer = { vocab: 'vocab.json', merges: 'merges.txt' };
  }
  // Special tokens (pad in particular) and model_max_length live here; read when the tokenizer is built.
  if (tokenizer) await add('tokenizer_config.json', 'tokenizer');
  const hasText = text.length > 0 && tokenizer !== null;

  const manifest: ManifestInput = {
    schema: MANIFEST_SCHEMA,
    version: MANIFEST_VERSION,
    id,
    name: id,
    description:
      'Hugging Face CLIP export (manifest inferred from the folder; zero-shot, uncalibrated heads)',
    files,
    vision: {
      variants: vision,
      inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch', 3, height, width], preprocess }],
      output: { name: 'image_embeds', dtype: 'float32', shape: ['batch', dim] },
      imagesPerRun: CLIP_IMAGES_PER_RUN,
    },
    text:
      hasText && tokenizer
        ? {
            variants: text,
            inputIds: 'input_ids',
            attentionMask: 'attention_mask',
            output: { name: 'text_embeds', dtype: 'float32', shape: ['batch', dim] },
            tokenizer,
            contextLength: config.text_config?.max_position_embeddings ?? 77,
          }
        : null,
    grades: defaults.grades,
    heads: hasText
      ? {
          quality: {
            type: 'zero-shot-quality',
            uncalibrated: true,
            pairs: defaults.quality.pairs.map(([p, n]) => [p, n] as [string, string]),
            logitScale: defaults.quality.logitScale,
            center: defaults.quality.center,
            scale: defaults.quality.scale,
            grm: defaults.quality.grm,
          },
          alignment: { type: 'zero-shot-alignment', uncalibrated: true, ...defaults.alignment },
        }
      : { quality: null, alignment: null },
    provenance: { inferred: true, notes: `manifest inferred from ${source.location}` },
  };
  return parseManifest(manifest, `${source.location} (inferred)`);
}
