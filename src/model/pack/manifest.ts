// The pack manifest: one versioned, validated description of a model pack
// (files with sizes and hashes, tensor names and shapes, preprocessing, grade
// labels, heads, provenance, measured metrics). Code reads packs only through it.
import { z } from 'zod';
import { AgqgError } from '../errors.ts';
import { meetsUnimodalBound, minDiscriminationSpacing } from '../grading/grm.ts';
import { GrmSchema, MosScaleSchema } from '../grading/grm-schema.ts';
import { PreprocessConfigSchema } from '../image/preprocess.ts';

export const MANIFEST_SCHEMA = 'agqg-pack';
/**
 * 2 adds what a head calibrated in the page needs: `base` with files `from: "base"` (the
 * encoder by reference) and a head's own `mos` scale. Version 1 manifests use neither and
 * stay valid; a reader that knows only 1 refuses a 2 instead of grading on the wrong scale.
 */
export const MANIFEST_VERSION = 2;
export const MANIFEST_VERSIONS = [1, 2] as const;
export const MANIFEST_FILE = 'manifest.json';

/** A path inside a pack: relative, forward slashes, no escaping the pack folder. */
const PackPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'must be a relative path inside the pack (no leading "/", no "..", no "\\")',
  });

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

export const FILE_ROLES = ['vision', 'text', 'head', 'tokenizer', 'config', 'other'] as const;

export const PackFileSchema = z.object({
  path: PackPath,
  /** Bytes. Absent only in manifests inferred from a folder nobody has hashed. */
  size: z.number().int().nonnegative().optional(),
  sha256: Sha256.optional(),
  role: z.enum(FILE_ROLES).default('other'),
  /** "base": the file is the base pack's (see ManifestSchema.base), read from it and checked against size and sha256 here. */
  from: z.literal('base').optional(),
});
export type PackFile = z.infer<typeof PackFileSchema>;

const Dim = z.union([z.number().int().positive(), z.string().min(1)]);

export const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8', 'int8']).default('float32'),
  /** Symbolic dims (strings) are free, e.g. "batch". */
  shape: z.array(Dim),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

/** Weight formats of one ONNX graph, as Hugging Face / transformers.js exports name them. */
export const VARIANT_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type VariantDtype = (typeof VARIANT_DTYPES)[number];

export const VariantSchema = z.object({ dtype: z.enum(VARIANT_DTYPES), file: PackPath });
export type Variant = z.infer<typeof VariantSchema>;

/** One image input of the vision graph and how to make it from decoded pixels. */
export const ImageInputSchema = TensorSpecSchema.extend({
  preprocess: PreprocessConfigSchema,
});
export type ImageInput = z.infer<typeof ImageInputSchema>;

/** Images per encoder run on each onnxruntime-web backend (see VisionEncoderSchema.imagesPerRun). */
export const ImagesPerRunSchema = z
  .object({ wasm: z.number().int().positive(), webgpu: z.number().int().positive() })
  .partial()
  .strict();
export type ImagesPerRun = z.infer<typeof ImagesPerRunSchema>;

export const VisionEncoderSchema = z.object({
  variants: z.array(VariantSchema).min(1),
  inputs: z.array(ImageInputSchema).min(1),
  output: TensorSpecSchema,
  /**
   * How many images the page puts in one encoder run on a backend, when the URL names none
   * (?batch=N); absent, the page's own default. Measured per model: batching pays for small
   * encoders and not for large ones, and on some it costs (see hf-clip.ts).
   */
  imagesPerRun: ImagesPerRunSchema.optional(),
});
export type VisionEncoder = z.infer<typeof VisionEncoderSchema>;

export const TokenizerRefSchema = z.union([
  z.object({ tokenizerJson: PackPath }),
  z.object({ vocab: PackPath, merges: PackPath }),
]);
export type TokenizerRef = z.infer<typeof TokenizerRefSchema>;

export const TextEncoderSchema = z.object({
  variants: z.array(VariantSchema).min(1),
  inputIds: z.string().min(1),
  attentionMask: z.string().min(1).nullable(),
  output: TensorSpecSchema,
  tokenizer: TokenizerRefSchema,
  contextLength: z.number().int().positive(),
});
export type TextEncoder = z.infer<typeof TextEncoderSchema>;

const HeadCommon = {
  grm: GrmSchema,
  /** This head's MOS scale when it is not grades.mos (a head calibrated to one person's ratings). */
  mos: MosScaleSchema.optional(),
  /** Zero-shot heads are not fitted to human scores; every place that shows them says so. */
  uncalibrated: z.boolean().default(false),
};

/** A trained head stored as an ONNX graph: features in, ability + GRM outputs out. */
export const OnnxHeadSchema = z.object({
  type: z.literal('onnx'),
  file: PackPath,
  /** Graph input name -> what feeds it. */
  inputs: z.record(z.string(), z.enum(['image_features', 'text_features'])),
  outputs: z.object({
    ability: z.string(),
    probabilities: z.string(),
    score: z.string(),
    thresholds: z.string().optional(),
  }),
  ...HeadCommon,
});

/** CLIP-IQA style: ability from the image's similarity to antonym prompt pairs. */
export const ZeroShotQualityHeadSchema = z.object({
  type: z.literal('zero-shot-quality'),
  pairs: z.array(z.tuple([z.string().min(1), z.string().min(1)])).min(1),
  /** theta = scale * (mean softmax prob of the positive prompt - center). */
  logitScale: z.number().positive(),
  center: z.number(),
  scale: z.number().positive(),
  ...HeadCommon,
});

/** CLIPScore style: ability from image-prompt cosine similarity. */
export const ZeroShotAlignmentHeadSchema = z.object({
  type: z.literal('zero-shot-alignment'),
  /** theta = scale * (cosine - center). */
  center: z.number(),
  scale: z.number().positive(),
  ...HeadCommon,
});

export const HeadSchema = z.discriminatedUnion('type', [
  OnnxHeadSchema,
  ZeroShotQualityHeadSchema,
  ZeroShotAlignmentHeadSchema,
]);
export type Head = z.infer<typeof HeadSchema>;

export const ManifestSchema = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA),
    version: z.union([z.literal(1), z.literal(2)]),
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, ".", "_" and "-" only'),
    name: z.string().min(1),
    description: z.string().default(''),
    packVersion: z.string().default('0'),
    files: z.array(PackFileSchema),
    vision: VisionEncoderSchema,
    text: TextEncoderSchema.nullable().default(null),
    grades: z.object({
      labels: z.array(z.string().min(1)).min(2),
      mos: MosScaleSchema,
    }),
    // A pack with encoders only (no heads yet) is valid: it can embed, and `agqg train` gives it heads.
    heads: z
      .object({
        quality: HeadSchema.nullable().default(null),
        alignment: HeadSchema.nullable().default(null),
      })
      .default({ quality: null, alignment: null }),
    provenance: z
      .object({
        backbone: z
          .object({ name: z.string(), source: z.string(), license: z.string() })
          .partial()
          .optional(),
        /** Where a fetched pack came from (agqg fetch). */
        source: z
          .object({
            repo: z.string(),
            revision: z.string(),
            commit: z.string(),
            baseUrl: z.string(),
            fetchedAt: z.string(),
          })
          .partial()
          .optional(),
        training: z.record(z.string(), z.unknown()).optional(),
        notes: z.string().optional(),
        inferred: z.boolean().optional(),
      })
      .default({}),
    metrics: z.record(z.string(), z.unknown()).default({}),
    /**
     * The pack whose encoder this one uses by reference (a head fitted in the page): files with
     * `from: "base"` are read from it, a served pack with this id, and must match their hashes.
     */
    base: z.object({ id: z.string().min(1), name: z.string().min(1), packVersion: z.string() }).optional(),
  })
  .superRefine((m, ctx) => {
    const fromBase = m.files.filter((f) => f.from === 'base');
    if (m.version === 1 && (fromBase.length > 0 || m.base || Object.values(m.heads).some((h) => h?.mos))) {
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: 'a version 1 manifest cannot use base, files[].from or heads.*.mos (they need version 2)',
      });
    }
    if (fromBase.length > 0 && !m.base) {
      ctx.addIssue({
        code: 'custom',
        path: ['base'],
        message: 'files come from the base pack but base is not set',
      });
    }
    for (const f of fromBase) {
      if (f.sha256 === undefined || f.size === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['files'],
          message: `${f.path} comes from the base pack and needs its size and sha256 (so only that encoder is used)`,
        });
      }
    }
    const listed = new Set(m.files.map((f) => f.path));
    const need = (path: string, where: string): void => {
      if (!listed.has(path)) {
        ctx.addIssue({ code: 'custom', message: `${where} names "${path}", which is not in files[]` });
      }
    };
    for (const v of m.vision.variants) need(v.file, 'vision.variants');
    if (m.text) {
      for (const v of m.text.variants) need(v.file, 'text.variants');
      const t = m.text.tokenizer;
      if ('tokenizerJson' in t) need(t.tokenizerJson, 'text.tokenizer');
      else {
        need(t.vocab, 'text.tokenizer');
        need(t.merges, 'text.tokenizer');
      }
    }
    for (const [kind, head] of Object.entries(m.heads)) {
      if (!head) continue;
      if (head.type === 'onnx') need(head.file, `heads.${kind}`);
      if (head.type === 'onnx' && Object.values(head.inputs).includes('text_features') && !m.text) {
        ctx.addIssue({
          code: 'custom',
          message: `heads.${kind} needs text features but the pack has no text encoder`,
        });
      }
      if (head.type.startsWith('zero-shot') && !m.text) {
        ctx.addIssue({ code: 'custom', message: `heads.${kind} is zero-shot and needs a text encoder` });
      }
    }
    const K = m.grades.labels.length;
    for (const [kind, head] of Object.entries(m.heads)) {
      if (head && !meetsUnimodalBound(head.grm, K)) {
        ctx.addIssue({
          code: 'custom',
          path: ['heads', kind, 'grm'],
          message: `a*d = ${head.grm.a * head.grm.d} is below ${minDiscriminationSpacing(K)}, so some grade distributions would be U-shaped`,
        });
      }
    }
    if (m.heads.alignment && !m.text) {
      ctx.addIssue({ code: 'custom', message: 'heads.alignment needs a text encoder' });
    }
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;

/** A JSON path as JSONPath writes it: $ for the whole document, $.heads.quality.grm.a, $.files[3].path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path
    .map((k) =>
      typeof k === 'number'
        ? `[${k}]`
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(k))
          ? `.${String(k)}`
          : `[${JSON.stringify(String(k))}]`,
    )
    .reduce((p, k) => p + k, '$');
}

/** What a JSON value is, in the words of the JSON format. */
function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string')
    return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  return `${typeof v === 'number' ? 'a number' : `a ${typeof v}`} (${String(v)})`;
}

/** The value at `path` in `json`, for saying what was found there. */
function at(json: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let v: unknown = json;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k))
      return { found: false, value: undefined };
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return { found: true, value: v };
}

/** Validates parsed JSON; the error lists every problem with its JSON path and what is there. */
export function parseManifest(json: unknown, where = MANIFEST_FILE): Manifest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new AgqgError(
      'pack_invalid',
      `${where} is not a valid AGQG pack manifest: $ (the whole file) is ${jsonKind(json)}, not an object`,
    );
  }
  const r = ManifestSchema.safeParse(json);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const { found, value } = at(json, i.path);
    const there =
      i.code === 'invalid_type'
        ? found
          ? `: expected ${i.expected}, found ${jsonKind(value)}`
          : `: missing (expected ${i.expected})`
        : `: ${i.message}`;
    return `${jsonPath(i.path)}${there}`;
  });
  throw new AgqgError(
    'pack_invalid',
    `${where} is not a valid AGQG pack manifest:\n  ${problems.join('\n  ')}`,
  );
}
