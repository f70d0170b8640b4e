// PackScorer on the tiny-clip fixture: head formulas checked against values
// computed here from the reference embeddings (refs.json), prompt rules, the
// text cache, and errors that come back in results instead of being thrown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/cli/decode.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { MAX_PROMPT_CHARS } from '../src/model/limits.ts';
import type { ManifestInput } from '../src/model/pack/manifest.ts';
import { attr, GraphBuilder } from '../src/model/onnx/graph-builder.ts';
import { openPack } from '../src/model/pack/pack.ts';
import type { RuntimeAdapter, SessionRunner, TensorIn } from '../src/model/scoring/runtime.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import {
  NOTE_EMPTY_PROMPT,
  NOTE_NO_PROMPT,
  NOTE_NO_TEXT_ENCODER,
} from '../src/model/scoring/prompt-verdict.ts';
import { describeShared } from './shared.ts';
import {
  loadRefs,
  MemoryPackSource,
  putManifest,
  refCosine,
  REFS,
  sha256,
  tinyManifest,
  type Refs,
} from './tiny-pack.ts';

/** Wraps a runtime to count runs per graph and optionally hide the text model's attention_mask input. */
class CountingRuntime implements RuntimeAdapter {
  readonly backend = 'counting';
  readonly runs = new Map<string, number>();
  readonly fedMask: boolean[] = [];
  constructor(
    private readonly inner: RuntimeAdapter,
    private readonly hideMask = false,
  ) {}
  async createSession(model: Uint8Array, label: string): Promise<SessionRunner> {
    const s = await this.inner.createSession(model, label);
    const hide = this.hideMask && s.inputNames.includes('attention_mask');
    return {
      inputNames: hide ? s.inputNames.filter((n) => n !== 'attention_mask') : s.inputNames,
      outputNames: s.outputNames,
      run: async (feeds: Record<string, TensorIn>, outputs?: string[]) => {
        this.runs.set(label, (this.runs.get(label) ?? 0) + 1);
        if (hide) {
          this.fedMask.push('attention_mask' in feeds);
          // The graph still needs the input; a graph exported without it attends to everything.
          const ids = feeds.input_ids;
          feeds = {
            ...feeds,
            attention_mask: {
              dtype: 'int64',
              data: new BigInt64Array(ids.data.length).fill(1n),
              dims: ids.dims,
            },
          };
        }
        return s.run(feeds, outputs);
      },
      release: () => s.release(),
    };
  }
}

const cos = refCosine;

const GRM = { a: 1.5, b1: -3, d: 2 };

/** A linear ONNX head: ability = img . wi + txt . wt + c (txt optional). */
function linearHead(wi: Float32Array, wt: Float32Array | null, c: number): Uint8Array {
  const g = new GraphBuilder();
  g.input('img', 'float32', [1, wi.length]);
  g.initializer('wi', wi, [wi.length, 1]);
  g.initializer('c', Float32Array.from([c]), [1]);
  g.node('MatMul', ['img', 'wi'], ['ai']);
  if (wt) {
    g.input('txt', 'float32', [1, wt.length]);
    g.initializer('wt', wt, [wt.length, 1]);
    g.node('MatMul', ['txt', 'wt'], ['at']);
    g.node('Add', ['ai', 'at'], ['s']);
  } else g.node('Identity', ['ai'], ['s']);
  g.node('Add', ['s', 'c'], ['a2']);
  g.node('Flatten', ['a2'], ['ability'], { axis: attr.int(0) });
  g.output('ability', 'float32', [1, 1]);
  return g.toBytes({ opset: 17, producer: 'agqg-test' });
}

async function loadPack(
  manifest: ManifestInput,
  source: MemoryPackSource,
  runtime: RuntimeAdapter,
): Promise<PackScorer> {
  return PackScorer.load(await openPack(putManifest(source, manifest)), runtime);
}

describeShared('PackScorer', ['fixtures/tiny-clip', 'fixtures/tiny-clip-refs/refs.json'], () => {
  let refs: Refs;
  const node = new NodeRuntime();
  const toRelease: PackScorer[] = [];
  beforeAll(() => {
    refs = loadRefs();
  });
  afterAll(async () => {
    await Promise.all(toRelease.map((s) => s.release()));
  });
  const img = (i: number) => Float32Array.from(refs.images[i].image_embeds);
  const txt = (text: string) => {
    const p = refs.prompts.find((x) => x.text === text);
    if (!p) throw new Error(`no reference prompt ${text}`);
    return p.text_embeds;
  };

  describe('zero-shot heads', () => {
    let scorer: PackScorer;
    let runtime: CountingRuntime;
    // Anchor prompts taken from refs.json so their embeddings are known independently.
    const pairs: [string, string][] = [
      ['a photo of a cat', 'statue of a man'],
      ['UPPER lower MiXeD', '!!!???...'],
    ];
    const q = { logitScale: 7, center: 0.4, scale: 6 };
    const al = { center: 0.1, scale: 5 };

    beforeAll(async () => {
      const source = new MemoryPackSource();
      const m = tinyManifest(source);
      m.heads = {
        quality: { type: 'zero-shot-quality', uncalibrated: true, pairs, ...q, grm: GRM },
        alignment: { type: 'zero-shot-alignment', uncalibrated: true, ...al, grm: GRM },
      };
      runtime = new CountingRuntime(node);
      scorer = await loadPack(m, source, runtime);
      toRelease.push(scorer);
    });

    it('encodes the anchor prompts once, at load', () => {
      expect(runtime.runs.get('onnx/text_model.onnx')).toBe(1);
      expect(scorer.hasText && scorer.hasQualityHead && scorer.hasAlignmentHead).toBe(true);
    });

    it('computes CLIP-IQA quality: mean over pairs of softmax(logitScale * [cos+, cos-])[0]', async () => {
      for (const i of [0, 3, 9]) {
        const e = refs.images[i].image_embeds;
        let sum = 0;
        for (const [pos, neg] of pairs) {
          const a = q.logitScale * cos(e, txt(pos));
          const b = q.logitScale * cos(e, txt(neg));
          sum += Math.exp(a) / (Math.exp(a) + Math.exp(b));
        }
        const theta = q.scale * (sum / pairs.length - q.center);
        const g = await scorer.gradeFeatures(img(i), null);
        expect(g.quality?.ability).toBeCloseTo(theta, 5);
        expect(g.quality?.uncalibrated).toBe(true);
        expect(g.quality?.labels).toEqual(['bad', 'poor', 'fair', 'good', 'excellent']);
      }
    });

    it('computes CLIPScore-style alignment: scale * (cos(image, prompt) - center)', async () => {
      const text = 'A tray of Sushi, baroque style!';
      const g = await scorer.gradeFeatures(img(2), text);
      expect(g.alignment?.ability).toBeCloseTo(
        al.scale * (cos(refs.images[2].image_embeds, txt(text)) - al.center),
        5,
      );
      expect(g.alignmentNote).toBeNull();
    });

    it('encodes a prompt shared by many images once', async () => {
      const before = runtime.runs.get('onnx/text_model.onnx') ?? 0;
      for (let i = 0; i < 4; i++) await scorer.gradeFeatures(img(i), 'statue of a man, shared');
      expect(runtime.runs.get('onnx/text_model.onnx')).toBe(before + 1);
      await scorer.gradeFeatures(img(0), 'another prompt');
      expect(runtime.runs.get('onnx/text_model.onnx')).toBe(before + 2);
    });

    it('explains a missing or empty prompt and still grades quality', async () => {
      for (const [prompt, note] of [
        [null, NOTE_NO_PROMPT],
        ['', NOTE_EMPTY_PROMPT],
        ['  \t\n ', NOTE_EMPTY_PROMPT],
      ] as const) {
        const g = await scorer.gradeFeatures(img(1), prompt);
        expect(g.alignment).toBeNull();
        expect(g.alignmentNote).toBe(note);
        expect(g.quality).not.toBeNull();
      }
    });

    it(`refuses prompts over ${MAX_PROMPT_CHARS} characters for alignment only`, async () => {
      const decoded = await decodeImageFile(REFS('images/pub_chelsea.png'));
      const long = 'a cat '.repeat(Math.ceil((MAX_PROMPT_CHARS + 1) / 6));
      const r = await scorer.scoreImage(decoded, { file: 'chelsea.png', prompt: long });
      expect(r.error).toBeNull();
      expect(r.quality).not.toBeNull();
      expect(r.alignment).toBeNull();
      expect(r.prompt).toBe(long);
      expect(r.alignmentError?.code).toBe('prompt_too_long');
      expect(r.alignmentError?.message).toContain(
        `${long.length} characters, over the limit of ${MAX_PROMPT_CHARS}`,
      );
      expect(r.alignmentNote).toContain('alignment not graded');
    });

    it('truncates prompts over 77 tokens like CLIP and says so', async () => {
      const long = refs.prompts[refs.prompts.length - 1].text;
      const g = await scorer.gradeFeatures(img(0), long);
      expect(g.alignment?.ability).toBeCloseTo(
        al.scale * (cos(refs.images[0].image_embeds, txt(long)) - al.center),
        5,
      );
      expect(g.alignmentNote).toContain('truncated to the first 77');
    });

    it('scores a decoded image end to end like the reference embedding', async () => {
      const ref = refs.images.findIndex((r) => r.file.endsWith('pub_astronaut.png'));
      const decoded = await decodeImageFile(REFS(refs.images[ref].file));
      const emb = await scorer.embedImage(decoded);
      expect(cos(Array.from(emb.features), refs.images[ref].image_embeds)).toBeGreaterThan(0.9999);
      const r = await scorer.scoreImage(decoded, {
        file: 'astronaut.png',
        prompt: 'statue of a man',
        decodeMs: 1,
      });
      const byFeatures = await scorer.gradeFeatures(emb.features, 'statue of a man');
      expect(r.quality?.ability).toBeCloseTo(byFeatures.quality?.ability ?? NaN, 6);
      expect(r.alignment?.ability).toBeCloseTo(byFeatures.alignment?.ability ?? NaN, 6);
      expect(r.backend).toBe('counting');
      expect(r.timings.decodeMs).toBe(1);
      expect(r.timings.totalMs).toBeGreaterThanOrEqual(1);
      // The stage split adds up to the inference time.
      const { encoderMs = NaN, textMs = NaN, headMs = NaN, inferenceMs = NaN } = r.timings;
      expect(Math.min(encoderMs, textMs, headMs)).toBeGreaterThanOrEqual(0);
      expect(encoderMs + textMs + headMs).toBeCloseTo(inferenceMs, 6);
    });

    it('returns bad images as error results instead of throwing', async () => {
      const empty = await scorer.scoreImage(
        { width: 0, height: 0, data: new Uint8Array(0) },
        { file: 'x.png', prompt: 'p' },
      );
      expect(empty.error?.code).toBe('decode_failed');
      expect(empty.quality).toBeNull();
      const huge = await scorer.scoreImage(
        { width: 100_000, height: 100_000, data: new Uint8Array(4) },
        { file: 'y.png', prompt: null },
      );
      expect(huge.error?.code).toBe('image_too_large');
    });
    it('scores a batch with one encoder run and one text run, each image as if alone', async () => {
      const files = ['pub_astronaut.png', 'pub_chelsea.png', 'pub_coffee.png', 'pub_sd1.5_lowcorr_290.jpg'];
      const picked = files.map((f) => refs.images.findIndex((r) => r.file.endsWith(f))).filter((i) => i >= 0);
      expect(picked.length).toBe(files.length);
      const items = await Promise.all(
        picked.map(async (i, k) => ({
          img: await decodeImageFile(REFS(refs.images[i].file)),
          file: refs.images[i].file,
          prompt: k % 2 === 0 ? `batch prompt even ${picked.length}` : `batch prompt odd ${picked.length}`,
        })),
      );
      const vision = runtime.runs.get('onnx/vision_model.onnx') ?? 0;
      const text = runtime.runs.get('onnx/text_model.onnx') ?? 0;
      const batch = await scorer.scoreImages(items);
      expect(runtime.runs.get('onnx/vision_model.onnx')).toBe(vision + 1);
      expect(runtime.runs.get('onnx/text_model.onnx')).toBe(text + 1);
      const embs = await scorer.embedImages(items.map((it) => it.img));
      for (const [k, i] of picked.entries()) {
        // Each row of the batched run is the reference embedding of its own image.
        expect(cos(Array.from(embs[k].features), refs.images[i].image_embeds)).toBeGreaterThan(0.9999);
        const alone = await scorer.scoreImage(items[k].img, items[k]);
        expect(batch[k].file).toBe(items[k].file);
        expect(batch[k].error).toBeNull();
        expect(batch[k].quality?.ability).toBeCloseTo(alone.quality?.ability ?? NaN, 5);
        expect(batch[k].alignment?.ability).toBeCloseTo(alone.alignment?.ability ?? NaN, 5);
      }
    });

    it('gives a bad image in a batch its own error and grades the others', async () => {
      const good = await decodeImageFile(REFS('images/pub_chelsea.png'));
      const out = await scorer.scoreImages([
        { img: good, file: 'a.png', prompt: null },
        { img: { width: 0, height: 0, data: new Uint8Array(0) }, file: 'bad.png', prompt: null },
        { img: good, file: 'c.png', prompt: null },
      ]);
      expect(out.map((r) => r.file)).toEqual(['a.png', 'bad.png', 'c.png']);
      expect(out[1].error?.code).toBe('decode_failed');
      expect(out[0].error).toBeNull();
      expect(out[2].quality?.ability).toBeCloseTo(out[0].quality?.ability ?? NaN, 6);
    });
  });

  describe('ONNX heads', () => {
    it('feeds image and text features to the head graph and reads its ability', async () => {
      const source = new MemoryPackSource();
      const m = tinyManifest(source);
      const wi = Float32Array.from({ length: 32 }, (_, k) => Math.sin(k + 1) / 10);
      const wt = Float32Array.from({ length: 32 }, (_, k) => Math.cos(k * 0.7) / 10);
      const qHead = linearHead(wi, null, 0.25);
      const aHead = linearHead(wi, wt, -0.5);
      source.put('quality.onnx', qHead).put('align.onnx', aHead);
      m.files.push(
        { path: 'quality.onnx', size: qHead.byteLength, sha256: sha256(qHead), role: 'head' },
        { path: 'align.onnx', size: aHead.byteLength, sha256: sha256(aHead), role: 'head' },
      );
      const outputs = { ability: 'ability', probabilities: 'probabilities', score: 'score' };
      m.heads = {
        quality: { type: 'onnx', file: 'quality.onnx', inputs: { img: 'image_features' }, outputs, grm: GRM },
        alignment: {
          type: 'onnx',
          file: 'align.onnx',
          inputs: { img: 'image_features', txt: 'text_features' },
          outputs,
          grm: GRM,
        },
      };
      const scorer = await loadPack(m, source, node);
      toRelease.push(scorer);
      const e = refs.images[4].image_embeds;
      const t = txt('statue of a man');
      const dot = (a: readonly number[], w: Float32Array) => a.reduce((s, v, k) => s + v * w[k], 0);
      const g = await scorer.gradeFeatures(img(4), 'statue of a man');
      expect(g.quality?.ability).toBeCloseTo(dot(e, wi) + 0.25, 4);
      expect(g.alignment?.ability).toBeCloseTo(dot(e, wi) + dot(t, wt) - 0.5, 4);
      expect(g.quality?.uncalibrated).toBe(false);
    });

    it('grades quality on a pack without text encoder and explains the missing alignment', async () => {
      const source = new MemoryPackSource();
      const m = tinyManifest(source, { text: false });
      const wi = Float32Array.from({ length: 32 }, (_, k) => (k % 3) - 1);
      const head = linearHead(wi, null, 0);
      source.put('q.onnx', head);
      m.files.push({ path: 'q.onnx', size: head.byteLength, sha256: sha256(head), role: 'head' });
      m.heads = {
        quality: {
          type: 'onnx',
          file: 'q.onnx',
          inputs: { img: 'image_features' },
          outputs: { ability: 'ability', probabilities: 'p', score: 's' },
          grm: GRM,
        },
      };
      const scorer = await loadPack(m, source, node);
      toRelease.push(scorer);
      expect(scorer.hasText).toBe(false);
      const decoded = await decodeImageFile(REFS('images/pub_coffee.png'));
      const r = await scorer.scoreImage(decoded, { file: 'coffee.png', prompt: 'a cup of coffee' });
      expect(r.error).toBeNull();
      expect(r.quality).not.toBeNull();
      expect(r.alignment).toBeNull();
      expect(r.prompt).toBe('a cup of coffee');
      expect(r.alignmentNote).toBe(NOTE_NO_TEXT_ENCODER);
    });

    it('refuses a head mapping an input the graph does not have', async () => {
      const source = new MemoryPackSource();
      const m = tinyManifest(source, { text: false });
      const head = linearHead(new Float32Array(32), null, 0);
      source.put('q.onnx', head);
      m.files.push({ path: 'q.onnx', size: head.byteLength, sha256: sha256(head), role: 'head' });
      m.heads = {
        quality: {
          type: 'onnx',
          file: 'q.onnx',
          inputs: { features: 'image_features' },
          outputs: { ability: 'ability', probabilities: 'p', score: 's' },
          grm: GRM,
        },
      };
      await expect(loadPack(m, source, node)).rejects.toMatchObject({
        code: 'pack_invalid',
        message: expect.stringContaining('maps input "features", but q.onnx has inputs img'),
      });
    });
  });

  describe('packs and exports without optional parts', () => {
    it('does not feed attention_mask to a text model that has no such input', async () => {
      const source = new MemoryPackSource();
      const runtime = new CountingRuntime(node, true);
      const scorer = await loadPack(tinyManifest(source), source, runtime);
      toRelease.push(scorer);
      const texts = ['a photo of a cat', 'café naïve résumé'];
      const emb = await scorer.embedTexts(texts);
      expect(runtime.fedMask).toEqual([false]);
      texts.forEach((t, i) => expect(cos(Array.from(emb[i]), txt(t))).toBeGreaterThan(0.9999));
    });

    it('gives no_head results for a pack with encoders only', async () => {
      const source = new MemoryPackSource();
      const scorer = await loadPack(tinyManifest(source), source, node);
      toRelease.push(scorer);
      expect(scorer.hasQualityHead).toBe(false);
      const decoded = await decodeImageFile(REFS('images/pub_tiny.png'));
      const r = await scorer.scoreImage(decoded, { file: 'tiny.png', prompt: 'x' });
      expect(r.error?.code).toBe('no_head');
      expect(r.error?.message).toContain('has no quality head');
    });

    it('refuses to load a pack whose encoder file was changed', async () => {
      const source = new MemoryPackSource();
      const m = tinyManifest(source);
      const bytes = source.files.get('onnx/vision_model.onnx') as Uint8Array;
      const changed = bytes.slice();
      changed[changed.length - 1] ^= 1;
      source.put('onnx/vision_model.onnx', changed);
      await expect(loadPack(m, source, node)).rejects.toMatchObject({ code: 'pack_file_tampered' });
    });
  });
});
