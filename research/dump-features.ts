// Research tool: dumps nsfwjs MobileNetV2-mid pooled features of every image of
// a labelled folder, for several views, to .cache/features/ (float32, one row
// per image in labels.csv order) for the numpy probes in research/probe.py.
//   npx tsx research/dump-features.ts --size 224 --views full,c,tl,tr,bl,br [--blocks all|default] [--data DIR] [--threads 2]
// Views: 'full' = whole image resized to size (align-corners bilinear, as
// nsfwjs); 'c','tl','tr','bl','br' = native-resolution size x size crops
// (centre, corners); 'half' = whole image at half resolution, centre crop of size.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeImageFile } from '../src/cli/decode.ts';
import {
  DEFAULT_MID_BLOCKS,
  convertNsfwjsMid,
  ONNX_INPUT,
  ONNX_OUTPUT,
} from '../src/cli/pack/nsfwjs-backbone.ts';
import { parseCsvTable } from '../src/model/util/csv.ts';
import type { RgbaImage } from '../src/model/image/image.ts';
import { parsePreprocessConfig, preprocessInto } from '../src/model/image/preprocess.ts';

export const ALL_BLOCKS = [
  'MobilenetV2/Conv/Relu6',
  'MobilenetV2/expanded_conv/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_1/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_2/add',
  'MobilenetV2/expanded_conv_3/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_4/add',
  'MobilenetV2/expanded_conv_5/add',
  'MobilenetV2/expanded_conv_6/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_7/add',
  'MobilenetV2/expanded_conv_8/add',
  'MobilenetV2/expanded_conv_9/add',
  'MobilenetV2/expanded_conv_10/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_11/add',
  'MobilenetV2/expanded_conv_12/add',
  'MobilenetV2/expanded_conv_13/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_14/add',
  'MobilenetV2/expanded_conv_15/add',
  'MobilenetV2/expanded_conv_16/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/Conv_1/Relu6',
];

/** ALL_BLOCKS plus every block's 6x expansion (1x1 conv + ReLU6): wider, same compute. */
export const WIDE_BLOCKS = [
  ...ALL_BLOCKS,
  ...Array.from({ length: 16 }, (_, i) => `MobilenetV2/expanded_conv_${i + 1}/expand/Relu6`),
];

function arg(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
}

/** Native-resolution crop of size x size at (x, y), as RGB/255 NCHW. */
function cropInto(
  img: RgbaImage,
  x0: number,
  y0: number,
  size: number,
  out: Float32Array,
  offset: number,
): void {
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const s = ((y0 + y) * img.width + (x0 + x)) * 4;
      const d = offset + y * size + x;
      out[d] = img.data[s] / 255;
      out[d + plane] = img.data[s + 1] / 255;
      out[d + 2 * plane] = img.data[s + 2] / 255;
    }
  }
}

function viewWriter(view: string, size: number): (img: RgbaImage, out: Float32Array, offset: number) => void {
  const resizeTo = (edge: number, crop: boolean) =>
    parsePreprocessConfig({
      do_resize: true,
      size: { height: edge, width: edge },
      do_center_crop: crop,
      crop_size: { height: size, width: size },
      do_normalize: false,
      agqg_resize: { mode: 'align_corners_bilinear' },
    });
  if (view === 'full') {
    const cfg = resizeTo(size, false);
    return (img, out, offset) => preprocessInto(img, cfg, out, offset);
  }
  if (view === 'half') {
    return (img, out, offset) => preprocessInto(img, resizeTo(Math.round(img.width / 2), true), out, offset);
  }
  const corner = { c: [0.5, 0.5], tl: [0, 0], tr: [1, 0], bl: [0, 1], br: [1, 1] }[view];
  if (!corner) throw new Error(`unknown view ${view}`);
  return (img, out, offset) => {
    const x = Math.round((img.width - size) * corner[0]);
    const y = Math.round((img.height - size) * corner[1]);
    cropInto(img, x, y, size, out, offset);
  };
}

async function main(argv: string[]): Promise<void> {
  const size = Number(arg(argv, '--size', '224'));
  const views = arg(argv, '--views', 'full').split(',');
  const blockSet = arg(argv, '--blocks', 'all');
  const blocks = blockSet === 'wide' ? WIDE_BLOCKS : blockSet === 'all' ? ALL_BLOCKS : DEFAULT_MID_BLOCKS;
  const suffix = blockSet === 'wide' ? '_wide' : '';
  const dataDir = resolve(arg(argv, '--data', '../shared/datasets/agiqa-3k'));
  const threads = Number(arg(argv, '--threads', '2'));
  const batch = Number(arg(argv, '--batch', '8'));
  const limit = Number(arg(argv, '--limit', '0'));
  const outDir = resolve('.cache/features');
  await mkdir(outDir, { recursive: true });

  const table = parseCsvTable(await readFile(join(dataDir, 'labels.csv'), 'utf8'), 'labels.csv');
  let names = table.rows.map((r) => r.name);
  if (limit > 0) names = names.slice(0, limit);
  const converted = await convertNsfwjsMid({ blocks, inputSize: size });
  const session = await ort.InferenceSession.create(converted.onnx, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const F = converted.featureDim;
  const writers = views.map((v) => viewWriter(v, size));
  const feats = views.map(() => new Float32Array(names.length * F));
  const plane = 3 * size * size;
  let decodeMs = 0;
  let prepMs = 0;
  let runMs = 0;
  const t0 = performance.now();
  for (let start = 0; start < names.length; start += batch) {
    const n = Math.min(batch, names.length - start);
    const input = new Float32Array(n * views.length * plane);
    for (let k = 0; k < n; k++) {
      let t = performance.now();
      const img = await decodeImageFile(join(dataDir, 'images', names[start + k]));
      decodeMs += performance.now() - t;
      t = performance.now();
      writers.forEach((w, v) => w(img, input, (v * n + k) * plane));
      prepMs += performance.now() - t;
    }
    const t = performance.now();
    const out = await session.run({
      [ONNX_INPUT]: new ort.Tensor('float32', input, [n * views.length, 3, size, size]),
    });
    runMs += performance.now() - t;
    const data = out[ONNX_OUTPUT].data as Float32Array;
    views.forEach((_, v) => feats[v].set(data.subarray(v * n * F, (v + 1) * n * F), start * F));
    if ((start / batch) % 25 === 0) {
      const done = start + n;
      process.stderr.write(
        `${done}/${names.length} ${((performance.now() - t0) / done).toFixed(1)} ms/image\n`,
      );
    }
  }
  const N = names.length;
  console.log(
    `size ${size} views ${views.join(',')}: decode ${(decodeMs / N).toFixed(1)} ms, preprocess ${(prepMs / N).toFixed(1)} ms, ` +
      `backbone ${(runMs / N / views.length).toFixed(1)} ms per view (${threads} threads, batch ${batch})`,
  );
  for (const [v, view] of views.entries()) {
    const tag = `s${size}_${view}${suffix}`;
    await writeFile(join(outDir, `${tag}.f32`), feats[v]);
    await writeFile(
      join(outDir, `${tag}.json`),
      JSON.stringify({ names, featureDim: F, segments: converted.description.segments, size, view }),
    );
  }
}

await main(process.argv.slice(2));
