// The default-pack builder: from a pack spec and a trained head to a pack
// folder the scorer opens, deterministic and skipped when up to date. Uses a
// spec with small views (64 and 48 px) so the backbone runs fast; nsfwjs ships
// in node_modules, so no ../shared is needed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPackDir } from '../src/cli/node-pack-source.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import {
  buildDefaultPack,
  BUILD_KEY_FILE,
  HEAD_ONNX_FILE,
  main,
} from '../src/cli/pack/build-default-pack.ts';
import { convertNsfwjsMid } from '../src/cli/pack/nsfwjs-backbone.ts';
import { headForward, type HeadParams } from '../src/model/grading/head.ts';
import { minDiscriminationSpacing } from '../src/model/grading/grm.ts';
import { MANIFEST_FILE } from '../src/model/pack/manifest.ts';
import { sha256Hex } from '../src/model/pack/pack.ts';
import { preprocess } from '../src/model/image/preprocess.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';

const BLOCKS = ['MobilenetV2/expanded_conv_2/add', 'MobilenetV2/expanded_conv_5/add'];
const FULL = 64;
const CROP = 48;
// Per view: (32 + 48 channels) x (mean, std).
const VIEW_DIM = 2 * (32 + 48);

function spec(): Record<string, unknown> {
  return {
    id: 'testpack',
    name: 'Test pack',
    description: 'small views for the builder test',
    packVersion: '1',
    backbone: {
      blocks: BLOCKS,
      weightStorage: 'uint8-lut',
      views: [
        {
          name: 'view_full',
          preprocess: {
            do_resize: true,
            size: { height: FULL, width: FULL },
            do_center_crop: false,
            do_normalize: false,
            agqg_resize: { mode: 'align_corners_bilinear' },
          },
        },
        {
          name: 'view_crop',
          preprocess: {
            do_resize: false,
            do_center_crop: false,
            agqg_crop: 'center',
            crop_size: { height: CROP, width: CROP },
            do_normalize: false,
            agqg_resize: { mode: 'align_corners_bilinear' },
          },
        },
      ],
    },
    grades: { labels: ['bad', 'poor', 'fair', 'good', 'excellent'], mos: { min: 0, max: 5 } },
    training: { dataset: 'none (test)' },
  };
}

/** A deterministic head over 2 x VIEW_DIM features (values from an LCG, not fitted). */
function head(dim: number): HeadParams {
  let s = 12345;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return {
    format: 'agqg-head',
    version: 1,
    kind: 'linear',
    input: { type: 'image' },
    inputDim: dim,
    mean: Array.from({ length: dim }, () => next()),
    std: Array.from({ length: dim }, () => 0.5 + next()),
    weights: Array.from({ length: dim }, () => (next() - 0.5) * 0.05),
    bias: 0.3,
    grm: { a: 2, b1: -1.5, d: minDiscriminationSpacing(5) / 2 + 0.1 },
    K: 5,
    mos: { min: 0, max: 5 },
  };
}

/** A 100x80 RGBA test image with structure (gradients and a block). */
function image(): { width: number; height: number; data: Uint8Array } {
  const width = 100;
  const height = 80;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = (x * 5) & 255;
      data[o + 1] = (y * 7) & 255;
      data[o + 2] = x > 30 && x < 60 && y > 20 && y < 50 ? 250 : 20;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

describe('build-pack (default offline pack builder)', () => {
  let root: string;
  let specDir: string;
  let outDir: string;
  const quiet = (): void => {};

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'agqg-build-pack-'));
    specDir = join(root, 'spec');
    outDir = join(root, 'models');
    mkdirSync(specDir);
    writeFileSync(join(specDir, 'pack.json'), JSON.stringify(spec()));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses to build without the trained head unless --no-head, naming the missing file', async () => {
    await expect(buildDefaultPack({ specDir, outDir, log: quiet })).rejects.toThrow(
      /head\.json is missing: train the quality head first/,
    );
    const r = await buildDefaultPack({ specDir, outDir, allowMissingHead: true, log: quiet });
    expect(r.head).toBe(false);
    expect(r.manifest.heads.quality).toBeNull();
    expect(r.manifest.vision.output.shape).toEqual(['batch', 2 * VIEW_DIM]);
    expect(r.manifest.provenance.notes).toMatch(/No trained quality head/);
  });

  it('rejects a head trained on other features', async () => {
    writeFileSync(join(specDir, 'head.json'), JSON.stringify(head(VIEW_DIM)));
    await expect(buildDefaultPack({ specDir, outDir, log: quiet })).rejects.toThrow(
      new RegExp(`reads ${VIEW_DIM} image features, but the backbone .* gives ${2 * VIEW_DIM}`),
    );
  });

  it('builds a pack the scorer opens; its score is the backbone features through headForward', async () => {
    const params = head(2 * VIEW_DIM);
    writeFileSync(join(specDir, 'head.json'), JSON.stringify(params));
    writeFileSync(
      join(specDir, 'head.report.json'),
      JSON.stringify({ metrics: { srcc: 0.5 }, training: { seed: 1 } }),
    );
    const r = await buildDefaultPack({ specDir, outDir, log: quiet });
    expect(r.skipped).toBe(false);
    const m = r.manifest;
    expect(m.heads.quality?.type).toBe('onnx');
    expect(m.metrics).toEqual({ quality: { srcc: 0.5 } });
    expect(m.vision.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['view_full', ['batch', 3, FULL, FULL]],
      ['view_crop', ['batch', 3, CROP, CROP]],
    ]);
    expect(m.provenance.backbone?.license).toBe('MIT');
    const index = JSON.parse(readFileSync(join(outDir, 'index.json'), 'utf8'));
    expect(index).toEqual([
      { id: 'testpack', name: 'Test pack', description: 'small views for the builder test' },
    ]);

    // Every listed file is there with its recorded size and hash (openPackDir + PackScorer.load verify them).
    const pack = await openPackDir(r.packDir);
    const scorer = await PackScorer.load(pack, new NodeRuntime());
    try {
      const img = image();
      const res = await scorer.scoreImage(img, { file: 'test.png', prompt: null });
      expect(res.error).toBeNull();
      // Independent reference: single-view backbones on the preprocessed views, then the head's reference forward pass.
      const parts: Float32Array[] = [];
      for (const input of m.vision.inputs) {
        const single = await convertNsfwjsMid({ blocks: BLOCKS, inputSize: input.shape[2] as number });
        const s = await ort.InferenceSession.create(single.onnx);
        const { data, dims } = preprocess(img, input.preprocess);
        parts.push(
          (await s.run({ pixels: new ort.Tensor('float32', data, dims) })).features.data as Float32Array,
        );
        await s.release();
      }
      const features = Float32Array.from([...parts[0], ...parts[1]]);
      const ref = headForward(params, features);
      expect(res.quality?.ability).toBeCloseTo(ref.ability, 3);
      expect(res.quality?.score).toBeCloseTo(ref.score, 3);
    } finally {
      await scorer.release();
    }
  });

  it('is deterministic and skips the work when up to date', async () => {
    const packDir = join(outDir, 'testpack');
    const before = readFileSync(join(packDir, MANIFEST_FILE), 'utf8');
    const onnxHash = await sha256Hex(readFileSync(join(packDir, 'backbone.onnx')));
    const again = await buildDefaultPack({ specDir, outDir, log: quiet });
    expect(again.skipped).toBe(true);
    const forced = await buildDefaultPack({ specDir, outDir, force: true, log: quiet });
    expect(forced.skipped).toBe(false);
    expect(readFileSync(join(packDir, MANIFEST_FILE), 'utf8')).toBe(before);
    expect(await sha256Hex(readFileSync(join(packDir, 'backbone.onnx')))).toBe(onnxHash);
    // A damaged output is rebuilt even though the build key matches.
    writeFileSync(join(packDir, HEAD_ONNX_FILE), 'garbage');
    const repaired = await buildDefaultPack({ specDir, outDir, log: quiet });
    expect(repaired.skipped).toBe(false);
    expect(existsSync(join(packDir, BUILD_KEY_FILE))).toBe(true);
  });

  it('reports bad arguments and a bad spec as usage errors (exit 2)', async () => {
    const errs: string[] = [];
    expect(await main(['--bogus'], quiet, (l) => errs.push(l))).toBe(2);
    expect(errs.join('\n')).toMatch(/unknown argument --bogus/);
    const bad = join(root, 'bad');
    mkdirSync(bad);
    const s = spec() as { backbone: { views: { preprocess: Record<string, unknown> }[] } };
    s.backbone.views[0].preprocess = {
      do_resize: true,
      size: { shortest_edge: 64 },
      do_center_crop: false,
      do_normalize: false,
    };
    writeFileSync(join(bad, 'pack.json'), JSON.stringify(s));
    expect(
      await main(['--spec', bad, '--out', join(root, 'o2'), '--no-head'], quiet, (l) => errs.push(l)),
    ).toBe(2);
    expect(errs.join('\n')).toMatch(/view view_full must produce a fixed square tensor/);
  });
});
