// A pack made from a calibration fit: the base pack's encoder by reference
// (files `from: "base"` with their sizes and hashes), the new quality head, and
// a manifest with its provenance (base pack, mode, ratings, CV metrics, date).
// What the page keeps in IndexedDB and exports; `agqg score --pack` reads the export.
import { AgqgError } from '../errors.ts';
import { HEAD_IO, headToOnnx } from '../onnx/onnx-head.ts';
import { MANIFEST_FILE, parseManifest, type Head, type Manifest, type PackFile } from '../pack/manifest.ts';
import { sha256Hex } from '../pack/pack.ts';
import type { CalibrationFit } from './calibrate.ts';

export const CALIBRATED_HEAD = 'heads/quality.onnx';
export const CALIBRATED_PARAMS = 'heads/quality.json';
export const CALIBRATED_REPORT = 'heads/quality.report.json';

export interface CalibratedPack {
  manifest: Manifest;
  /** The pack's own files, manifest.json included; the encoder stays in the base pack. */
  files: Map<string, Uint8Array>;
}

/** A pack id from a name: lower-case letters, digits, "-", prefixed so it never shadows a served pack. */
export function savedPackId(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return `my-${slug || 'pack'}`;
}

function metricsOf(fit: CalibrationFit) {
  return {
    dataset: 'ratings given in the page',
    target: 'ratings',
    protocol: `${fit.folds}-fold cross-validation grouped by ${fit.groupedBy}`,
    n: fit.n,
    srcc: fit.cv.srcc,
    srccInterval: fit.cv.srccInterval,
    plcc: fit.cv.plcc,
    plccInterval: fit.cv.plccInterval,
    rmse: fit.cv.rmse,
    kappa: fit.cv.kappa,
    foldSrcc: fit.cv.foldSrcc,
    baseHead: fit.base,
  };
}

export async function buildCalibratedPack(opts: {
  base: Manifest;
  fit: CalibrationFit;
  name: string;
  /** ISO date of the fit. */
  date: string;
  /** The base quality head's graph (a recalibration keeps its ability and owns a copy: 0.3 MB for the default pack). */
  baseHeadBytes: Uint8Array | null;
}): Promise<CalibratedPack> {
  const { fit, date } = opts;
  const name = opts.name.trim();
  if (!name) throw new AgqgError('invalid_argument', 'a saved pack needs a name');
  // A pack calibrated from a calibrated pack references the same encoder pack, not a chain.
  const base = opts.base;
  const baseRef = base.base ?? { id: base.id, name: base.name, packVersion: base.packVersion };
  const baseHead = base.heads.quality;
  if (!baseHead || baseHead.type !== 'onnx') {
    throw new AgqgError('invalid_argument', `pack "${base.id}" has no trained quality head to calibrate`);
  }
  const files = new Map<string, Uint8Array>();
  const enc = new TextEncoder();
  const entries: PackFile[] = [];
  const own = async (path: string, bytes: Uint8Array, role: PackFile['role']) => {
    files.set(path, bytes);
    entries.push({ path, size: bytes.byteLength, sha256: await sha256Hex(bytes), role });
  };
  if (fit.mode === 'retrain') {
    if (!fit.head) throw new AgqgError('internal', 'a retrain fit without a head');
    await own(CALIBRATED_HEAD, headToOnnx(fit.head), 'head');
    await own(CALIBRATED_PARAMS, enc.encode(`${JSON.stringify(fit.head)}\n`), 'head');
  } else {
    if (!opts.baseHeadBytes) throw new AgqgError('internal', 'a recalibration needs the base head graph');
    // The graph gives the ability; its GRM outputs are the base's and unused: the scorer reads the manifest's.
    await own(CALIBRATED_HEAD, opts.baseHeadBytes, 'head');
  }
  const training = {
    mode: fit.mode,
    base: baseRef,
    ratings: fit.n,
    scale: fit.scale,
    folds: fit.folds,
    groupedBy: fit.groupedBy,
    lambda: fit.lambda,
    date,
  };
  await own(
    CALIBRATED_REPORT,
    enc.encode(`${JSON.stringify({ training, metrics: metricsOf(fit) }, null, 2)}\n`),
    'other',
  );
  // Everything else of the base (encoders, tokenizer, and for a recalibration its head graph) by reference.
  for (const f of base.files) {
    if (files.has(f.path) || (f.path === baseHead.file && fit.mode === 'retrain')) continue;
    if (f.role === 'other' && f.from !== 'base') continue;
    if (f.size === undefined || f.sha256 === undefined) {
      throw new AgqgError(
        'pack_invalid',
        `pack "${base.id}" lists ${f.path} without its size and SHA-256: a saved pack can only reference hashed files`,
      );
    }
    entries.push({ ...f, from: 'base' });
  }
  const head: Head = {
    type: 'onnx',
    file: CALIBRATED_HEAD,
    inputs: { [HEAD_IO.image]: 'image_features' },
    outputs: { ...baseHead.outputs },
    grm: fit.grm,
    mos: fit.scale,
    uncalibrated: false,
  };
  const what = fit.mode === 'recalibrate' ? 'recalibrated' : 'retrained';
  const manifest = parseManifest(
    {
      ...base,
      version: 2,
      id: savedPackId(name),
      name,
      description: `${base.name}, ${what} to ${fit.n} ratings on ${date.slice(0, 10)} (scale ${fit.scale.min}–${fit.scale.max}); encoder of "${baseRef.id}" by reference.`,
      packVersion: '1',
      files: entries,
      heads: { quality: head, alignment: base.heads.alignment },
      metrics: { ...base.metrics, quality: metricsOf(fit) },
      provenance: {
        ...base.provenance,
        inferred: false,
        training: { ...(base.provenance.training ?? {}), quality: training },
      },
      base: baseRef,
    },
    `the saved pack "${name}"`,
  );
  files.set(MANIFEST_FILE, enc.encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { manifest, files };
}
