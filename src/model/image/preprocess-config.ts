// preprocessor_config.json as Hugging Face's CLIPImageProcessor reads it, plus the
// one AGQG extension (agqg_resize) for backbones that were not trained with PIL.
// Absent fields take CLIPImageProcessor's own defaults, so a checkpoint's config
// means here what it means in transformers.
import { z } from 'zod';
import { AgqgError } from '../errors.ts';

// transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD (image_utils.py), CLIPImageProcessor's defaults.
const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const CLIP_DEFAULT_EDGE = 224;
const UINT8_MAX = 255;

/** PIL.Image.Resampling values, the numbers HF configs store in `resample`. */
export const PIL_RESAMPLE = {
  NEAREST: 0,
  LANCZOS: 1,
  BILINEAR: 2,
  BICUBIC: 3,
  BOX: 4,
  HAMMING: 5,
} as const;

const positiveInt = z.number().int().positive();

// HF accepts a bare int for size (CLIP: shortest edge) and for crop_size (square).
const SizeSchema = z.union([
  positiveInt.transform((n) => ({ shortest_edge: n })),
  z.object({ shortest_edge: positiveInt }),
  z.object({ height: positiveInt, width: positiveInt }),
]);

const CropSizeSchema = z.union([
  positiveInt.transform((n) => ({ height: n, width: n })),
  z.object({ height: positiveInt, width: positiveInt }),
]);

// HF also accepts one number for all channels.
const PerChannel = (name: string) =>
  z.union([
    z
      .number()
      .refine(Number.isFinite, `${name} must be finite`)
      .transform((v) => [v, v, v]),
    z
      .array(z.number().refine(Number.isFinite, `${name} must be finite`))
      .length(3, `${name} needs 3 values (RGB)`),
  ]);

export const RESIZE_MODES = ['pil', 'align_corners_bilinear'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export const PreprocessConfigSchema = z.looseObject({
  do_resize: z.boolean().default(true),
  size: SizeSchema.default({ shortest_edge: CLIP_DEFAULT_EDGE }),
  resample: z
    .number()
    .int()
    .refine(
      (v) => (Object.values(PIL_RESAMPLE) as number[]).includes(v),
      'resample must be a PIL filter number 0..5',
    )
    .default(PIL_RESAMPLE.BICUBIC),
  do_center_crop: z.boolean().default(true),
  crop_size: CropSizeSchema.default({ height: CLIP_DEFAULT_EDGE, width: CLIP_DEFAULT_EDGE }),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .refine((v) => Number.isFinite(v) && v > 0, 'rescale_factor must be a positive number')
    .default(1 / UINT8_MAX),
  do_normalize: z.boolean().default(true),
  image_mean: PerChannel('image_mean').default(OPENAI_CLIP_MEAN),
  image_std: PerChannel('image_std')
    .refine((s) => s.every((v) => v !== 0), 'image_std must not contain 0')
    .default(OPENAI_CLIP_STD),
  do_convert_rgb: z.boolean().default(true),
  /**
   * AGQG extension. 'pil' (default): PIL's antialiased resampling with 8-bit
   * rounding, as CLIP-family checkpoints were trained. 'align_corners_bilinear':
   * tf.image.resizeBilinear(alignCorners=true) in float on rescaled pixels, as
   * TF.js models (nsfwjs) do; `resample` is then ignored.
   */
  agqg_resize: z.object({ mode: z.enum(RESIZE_MODES).default('pil') }).default({ mode: 'pil' }),
  /** AGQG extension: 'center' = crop crop_size from the native-resolution image, no resize. */
  agqg_crop: z.literal('center').optional(),
});

export type PreprocessConfig = z.infer<typeof PreprocessConfigSchema>;
export type PreprocessConfigInput = z.input<typeof PreprocessConfigSchema>;

/** Parses a preprocessor_config.json object; a bad one is a 'pack_invalid' naming the field. */
export function parsePreprocessConfig(json: unknown, source = 'preprocessor_config.json'): PreprocessConfig {
  const r = PreprocessConfigSchema.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AgqgError('pack_invalid', `${source} is not a valid image preprocessor config: ${detail}`);
  }
  return r.data;
}
