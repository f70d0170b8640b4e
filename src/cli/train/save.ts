// Writes a trained head into a pack folder: the head as ONNX (what the scorer
// runs) and as JSON parameters (the reference, see src/model/grading/head.ts), plus a
// training report; then records them in manifest.json (heads.<kind>, files
// with size and SHA-256, metrics, provenance). A Hugging Face folder without a
// manifest gets one written from its inferred manifest.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseHeadParams, type HeadParams } from '../../model/grading/head.ts';
import {
  MANIFEST_FILE,
  parseManifest,
  type Head,
  type Manifest,
  type PackFile,
} from '../../model/pack/manifest.ts';
import { HEAD_IO, headToOnnx } from '../../model/onnx/onnx-head.ts';
import type { OpenedPack } from '../../model/pack/pack.ts';

export type HeadKind = 'quality' | 'alignment';

export interface SavedHead {
  manifestPath: string;
  files: string[];
  manifest: Manifest;
}

function fileEntry(path: string, bytes: Uint8Array, role: PackFile['role']): PackFile {
  return { path, size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), role };
}

export async function saveHead(
  pack: OpenedPack,
  packDir: string,
  kind: HeadKind,
  params: HeadParams,
  report: { metrics: Record<string, unknown>; training: Record<string, unknown> },
): Promise<SavedHead> {
  const checked = parseHeadParams(params, `the trained ${kind} head`);
  const onnxPath = `heads/${kind}.onnx`;
  const jsonPath = `heads/${kind}.json`;
  const reportPath = `heads/${kind}.report.json`;
  const onnx = headToOnnx(checked);
  const json = new TextEncoder().encode(`${JSON.stringify(checked)}\n`);
  const reportBytes = new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
  const writes: [string, Uint8Array, PackFile['role']][] = [
    [onnxPath, onnx, 'head'],
    [jsonPath, json, 'head'],
    [reportPath, reportBytes, 'other'],
  ];
  for (const [path, bytes] of writes) {
    await mkdir(dirname(join(packDir, path)), { recursive: true });
    await writeFile(join(packDir, path), bytes);
  }
  const m = pack.manifest;
  const replaced = new Set(writes.map(([p]) => p));
  const inputs: Record<string, 'image_features' | 'text_features'> = { [HEAD_IO.image]: 'image_features' };
  if (checked.input.type === 'image-text') inputs[HEAD_IO.text] = 'text_features';
  const head: Head = {
    type: 'onnx',
    file: onnxPath,
    inputs,
    outputs: {
      ability: HEAD_IO.ability,
      probabilities: HEAD_IO.probabilities,
      score: HEAD_IO.score,
      thresholds: HEAD_IO.thresholds,
    },
    grm: checked.grm,
    uncalibrated: false,
  };
  const next = {
    ...m,
    files: [
      ...m.files.filter((f) => !replaced.has(f.path)),
      ...writes.map(([p, b, role]) => fileEntry(p, b, role)),
    ],
    heads: { ...m.heads, [kind]: head },
    metrics: { ...m.metrics, [kind]: report.metrics },
    provenance: {
      ...m.provenance,
      inferred: false,
      training: { ...(m.provenance.training ?? {}), [kind]: report.training },
    },
  };
  const manifest = parseManifest(next, `the updated ${MANIFEST_FILE}`);
  const manifestPath = join(packDir, MANIFEST_FILE);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifestPath, files: writes.map(([p]) => p), manifest };
}
