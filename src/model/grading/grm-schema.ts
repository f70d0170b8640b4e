// The GRM parameters and the MOS scale as they are written in data (pack
// manifests, trained head files), validated with zod. Both the manifest and the
// head format read them from here.
import { z } from 'zod';

export const GrmSchema = z.object({
  a: z.number().positive(),
  b1: z.number(),
  d: z.number().positive(),
});

export const MosScaleSchema = z
  .object({ min: z.number(), max: z.number() })
  .refine((s) => s.max > s.min, { message: 'mos.max must exceed mos.min' });
