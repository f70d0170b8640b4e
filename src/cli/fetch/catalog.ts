// Known CLIP exports (known-models.json) and the plan of files to fetch for a
// pack: the model's plain files plus, per ONNX encoder, one file per weight
// format asked for, named as transformers.js exports name them.
import { z } from 'zod';
import { AgqgError } from '../../model/errors.ts';
import { HF_VARIANT_SUFFIXES } from '../../model/pack/hf-clip.ts';
import { VARIANT_DTYPES, type VariantDtype } from '../../model/pack/manifest.ts';
import table from './known-models.json' with { type: 'json' };

const RepoId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'owner/name');

export const ModelSpecSchema = z.object({
  repo: RepoId,
  revision: z.string().min(1),
  name: z.string().min(1),
  description: z.string(),
  /** The original model the export was made from, for provenance. */
  upstream: z.string().min(1),
  license: z.string().min(1),
  /** Plain files the pack cannot do without. */
  files: z.array(z.string().min(1)).min(1),
  /** Plain files taken when the repo has them. */
  optionalFiles: z.array(z.string().min(1)),
  /** ONNX graph stems under onnx/; each needs at least one of the weight formats asked for. */
  encoders: z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1),
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

const TableSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/), ModelSpecSchema);
export const KNOWN_MODELS: Readonly<Record<string, ModelSpec>> = TableSchema.parse(table);

/** fp32 is the exact reference the CLI, eval and training use; q8 is the quarter-size download for the page. */
export const DEFAULT_VARIANTS: readonly VariantDtype[] = ['fp32', 'q8'];

/** What an unlisted `--repo` export is assumed to hold: a CLIP export with either tokenizer layout. */
export function specForRepo(repo: string, revision: string): ModelSpec {
  return ModelSpecSchema.parse({
    repo,
    revision,
    name: repo,
    description: `CLIP export ${repo} (ONNX); zero-shot heads, not fitted to human scores`,
    upstream: repo,
    license: 'see the model card',
    files: ['config.json', 'preprocessor_config.json'],
    optionalFiles: ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt'],
    encoders: ['vision_model', 'text_model'],
  });
}

export function isRepoId(value: string): boolean {
  return RepoId.safeParse(value).success;
}

export function parseVariantList(value: string): VariantDtype[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0)
    throw new AgqgError('invalid_argument', '--variants needs at least one weight format');
  for (const item of items) {
    if (!(VARIANT_DTYPES as readonly string[]).includes(item)) {
      throw new AgqgError(
        'invalid_argument',
        `--variants: "${item}" is not one of ${VARIANT_DTYPES.join(', ')}`,
      );
    }
  }
  return [...new Set(items as VariantDtype[])];
}

export interface PlannedFile {
  path: string;
  /** A missing required file stops the fetch; a missing optional one is skipped. */
  required: boolean;
  /** Set for ONNX weights: which encoder and format. */
  encoder?: string;
  dtype?: VariantDtype;
}

export function variantPath(encoder: string, dtype: VariantDtype): string {
  const suffix = HF_VARIANT_SUFFIXES.find(([d]) => d === dtype)?.[1];
  if (suffix === undefined) throw new AgqgError('internal', `no file-name suffix for weight format ${dtype}`);
  return `onnx/${encoder}${suffix}.onnx`;
}

/** Every file the pack may take; weights are optional one by one (the encoder needs one of them). */
export function planFiles(spec: ModelSpec, variants: readonly VariantDtype[]): PlannedFile[] {
  const plan: PlannedFile[] = [
    ...spec.files.map((path) => ({ path, required: true })),
    ...spec.optionalFiles.filter((p) => !spec.files.includes(p)).map((path) => ({ path, required: false })),
  ];
  for (const encoder of spec.encoders) {
    for (const dtype of variants)
      plan.push({ path: variantPath(encoder, dtype), required: false, encoder, dtype });
  }
  return plan;
}
