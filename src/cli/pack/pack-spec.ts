// The pack spec (packs/<id>/pack.json) the default-pack builder reads: views and
// their preprocessing, backbone blocks, grades, provenance; and the checks that
// each view gives the fixed square tensor the backbone takes.
import { z } from 'zod';
import { AgqgError } from '../../model/errors.ts';
import { MosScaleSchema } from '../../model/grading/grm-schema.ts';
import { outputSize, PreprocessConfigSchema } from '../../model/image/preprocess.ts';

const ViewSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an ONNX input name (letters, digits, _)'),
  preprocess: PreprocessConfigSchema,
});

export const PackSpecSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
  name: z.string().min(1),
  description: z.string(),
  packVersion: z.string().min(1),
  backbone: z.object({
    blocks: z.array(z.string().min(1)).min(1),
    weightStorage: z.enum(['float32', 'uint8-lut']),
    views: z.array(ViewSpecSchema).min(1),
  }),
  grades: z.object({ labels: z.array(z.string().min(1)).min(2), mos: MosScaleSchema }),
  training: z.record(z.string(), z.unknown()),
});
export type PackSpec = z.infer<typeof PackSpecSchema>;

export function parsePackSpec(json: unknown, where: string): PackSpec {
  const r = PackSpecSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AgqgError('pack_invalid', `${where} is not a valid pack spec:\n  ${problems.join('\n  ')}`);
  }
  const names = r.data.backbone.views.map((v) => v.name);
  if (new Set(names).size !== names.length)
    throw new AgqgError('pack_invalid', `${where}: view names must be distinct`);
  for (const v of r.data.backbone.views) viewSize(v, where);
  return r.data;
}

/** The square tensor size a view's preprocessing produces, whatever the image size. */
export function viewSize(view: PackSpec['backbone']['views'][number], where: string): number {
  const cfg = view.preprocess;
  const fixed = cfg.do_center_crop || cfg.agqg_crop === 'center' || (cfg.do_resize && 'height' in cfg.size);
  // Two different probe sizes must give the same tensor: the backbone's input size is fixed.
  const a = outputSize({ width: 512, height: 384 }, cfg);
  const b = outputSize({ width: 300, height: 700 }, cfg);
  if (!fixed || a.height !== a.width || a.height !== b.height || a.width !== b.width) {
    throw new AgqgError(
      'pack_invalid',
      `${where}: view ${view.name} must produce a fixed square tensor (crop or resize to height = width)`,
    );
  }
  if (cfg.do_normalize) {
    throw new AgqgError(
      'pack_invalid',
      `${where}: view ${view.name} must not normalise: the backbone maps [0, 1] to [-1, 1] itself`,
    );
  }
  return a.height;
}
