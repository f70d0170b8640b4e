// Pack manifests, pack opening and file verification, and the manifest
// inferred from a Hugging Face CLIP export folder.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderPackSource, openPackDir } from '../src/cli/node-pack-source.ts';
import { AgqgError } from '../src/model/errors.ts';
import { parseManifest, type ManifestInput } from '../src/model/pack/manifest.ts';
import { openPack, pickVariant, readPackFile, sha256Hex } from '../src/model/pack/pack.ts';
import { describeShared } from './shared.ts';
import { MemoryPackSource, putManifest, sha256, TINY } from './tiny-pack.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A minimal valid manifest over one fake vision file (content is never run here). */
function minimal(over: Partial<ManifestInput> = {}): { manifest: ManifestInput; source: MemoryPackSource } {
  const model = bytes('not really onnx, only hashed');
  const source = new MemoryPackSource().put('vision.onnx', model);
  const manifest: ManifestInput = {
    schema: 'agqg-pack',
    version: 1,
    id: 'mini',
    name: 'Mini',
    files: [{ path: 'vision.onnx', size: model.byteLength, sha256: sha256(model), role: 'vision' }],
    vision: {
      variants: [{ dtype: 'fp32', file: 'vision.onnx' }],
      inputs: [{ name: 'pixel_values', shape: [1, 3, 224, 224], preprocess: {} }],
      output: { name: 'image_embeds', shape: [1, 32] },
    },
    grades: { labels: ['bad', 'poor', 'fair', 'good', 'excellent'], mos: { min: 0, max: 5 } },
    ...over,
  };
  return { manifest, source };
}

function problemOf(fn: () => unknown): AgqgError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AgqgError);
    return err as AgqgError;
  }
  throw new Error('expected an AgqgError');
}

describe('manifest validation', () => {
  it('accepts a minimal manifest and fills the documented defaults', () => {
    const m = parseManifest(minimal().manifest);
    expect(m.text).toBeNull();
    expect(m.heads).toEqual({ quality: null, alignment: null });
    expect(m.files[0].role).toBe('vision');
    expect(m.vision.inputs[0].dtype).toBe('float32');
    // preprocess {} takes CLIPImageProcessor's defaults.
    expect(m.vision.inputs[0].preprocess.crop_size).toEqual({ height: 224, width: 224 });
  });

  it('names a vision variant whose file is not listed', () => {
    const { manifest } = minimal();
    manifest.vision.variants = [{ dtype: 'fp32', file: 'other.onnx' }];
    const e = problemOf(() => parseManifest(manifest));
    expect(e.code).toBe('pack_invalid');
    expect(e.message).toContain('vision.variants names "other.onnx", which is not in files[]');
  });

  it.each(['../escape.onnx', '/abs/vision.onnx', 'dir\\vision.onnx', 'a/../../b.onnx'])(
    'refuses the path %s',
    (path) => {
      const { manifest } = minimal();
      manifest.files = [{ path, size: 1 }];
      manifest.vision.variants = [{ dtype: 'fp32', file: path }];
      const e = problemOf(() => parseManifest(manifest));
      expect(e.code).toBe('pack_invalid');
      expect(e.message).toContain('must be a relative path inside the pack');
    },
  );

  it('refuses a malformed hash, a wrong schema and a bad id, listing each', () => {
    const { manifest } = minimal();
    const bad = {
      ...manifest,
      schema: 'other',
      id: 'no spaces allowed',
      files: [{ path: 'vision.onnx', sha256: 'ABC' }],
    };
    const e = problemOf(() => parseManifest(bad, 'x/manifest.json'));
    expect(e.message).toContain('x/manifest.json is not a valid AGQG pack manifest');
    expect(e.message).toContain('$.schema:');
    expect(e.message).toContain('$.id: letters, digits');
    expect(e.message).toContain('$.files[0].sha256: must be 64 lower-case hex digits');
  });

  it('takes images per encoder run per backend, and refuses zero, fractions and unknown backends', () => {
    const { manifest } = minimal();
    expect(parseManifest(manifest).vision.imagesPerRun).toBeUndefined();
    const ok = parseManifest({
      ...manifest,
      vision: { ...manifest.vision, imagesPerRun: { wasm: 1, webgpu: 16 } },
    });
    expect(ok.vision.imagesPerRun).toEqual({ wasm: 1, webgpu: 16 });
    for (const bad of [{ wasm: 0 }, { wasm: 2.5 }, { cpu: 4 }]) {
      const e = problemOf(() =>
        parseManifest({ ...manifest, vision: { ...manifest.vision, imagesPerRun: bad } }),
      );
      expect(e.code).toBe('pack_invalid');
      expect(e.message).toContain('vision.imagesPerRun');
    }
  });

  it('refuses zero-shot and alignment heads on a pack without text encoder', () => {
    const { manifest } = minimal({
      heads: {
        quality: {
          type: 'zero-shot-quality',
          pairs: [['good', 'bad']],
          logitScale: 100,
          center: 0.5,
          scale: 10,
          grm: { a: 1.5, b1: -3, d: 2 },
        },
        alignment: { type: 'zero-shot-alignment', center: 0.25, scale: 40, grm: { a: 1.5, b1: -3, d: 2 } },
      },
    });
    const e = problemOf(() => parseManifest(manifest));
    expect(e.message).toContain('heads.quality is zero-shot and needs a text encoder');
    expect(e.message).toContain('heads.alignment needs a text encoder');
  });

  it('refuses an ONNX head whose file is not listed', () => {
    const { manifest } = minimal({
      heads: {
        quality: {
          type: 'onnx',
          file: 'head.onnx',
          inputs: { features: 'image_features' },
          outputs: { ability: 'ability', probabilities: 'p', score: 's' },
          grm: { a: 1.5, b1: -3, d: 2 },
        },
      },
    });
    expect(problemOf(() => parseManifest(manifest)).message).toContain(
      'heads.quality names "head.onnx", which is not in files[]',
    );
  });
});

describe('opening packs and verifying files', () => {
  it('opens a valid manifest.json and reads a file that matches its size and hash', async () => {
    const { manifest, source } = minimal();
    const pack = await openPack(putManifest(source, manifest));
    expect(pack.manifest.id).toBe('mini');
    const got = await readPackFile(pack, 'vision.onnx');
    expect(new TextDecoder().decode(got)).toBe('not really onnx, only hashed');
  });

  it('reports a manifest.json that is not JSON', async () => {
    const source = new MemoryPackSource('mem:broken').put('manifest.json', '{"schema": ');
    await expect(openPack(source)).rejects.toMatchObject({
      code: 'pack_invalid',
      message: expect.stringContaining('mem:broken/manifest.json is not valid JSON'),
    });
  });

  it('reports a folder that is neither a pack nor a CLIP export', async () => {
    await expect(openPack(new MemoryPackSource('mem:empty'))).rejects.toMatchObject({
      code: 'pack_invalid',
      message: expect.stringContaining('mem:empty is not a pack: it has no manifest.json'),
    });
  });

  it('detects a changed file of the same size (hash) and a truncated one (size)', async () => {
    const { manifest, source } = minimal();
    const pack = await openPack(putManifest(source, manifest));
    source.put('vision.onnx', bytes('NOT really onnx, only hashed'));
    await expect(readPackFile(pack, 'vision.onnx')).rejects.toMatchObject({
      code: 'pack_file_tampered',
      message: expect.stringContaining('does not match its SHA-256'),
    });
    source.put('vision.onnx', bytes('not really'));
    await expect(readPackFile(pack, 'vision.onnx')).rejects.toMatchObject({
      code: 'pack_file_tampered',
      message: expect.stringContaining('has 10 bytes but the manifest says 28'),
    });
  });

  it('reports a missing file with pack_file_missing', async () => {
    const { manifest, source } = minimal();
    const pack = await openPack(putManifest(source, manifest));
    source.files.delete('vision.onnx');
    await expect(readPackFile(pack, 'vision.onnx')).rejects.toMatchObject({
      code: 'pack_file_missing',
      message: expect.stringContaining('vision.onnx is missing (pack "mini")'),
    });
  });

  it('hashes with WebCrypto exactly as node:crypto does', async () => {
    const b = bytes('abc');
    // FIPS 180-2 test vector for "abc".
    expect(await sha256Hex(b)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('picks the variant asked for, else by preference, and names what exists when it is absent', () => {
    const variants = [
      { dtype: 'q8' as const, file: 'a' },
      { dtype: 'fp16' as const, file: 'b' },
    ];
    expect(pickVariant(variants, 'q8', ['fp32']).file).toBe('a');
    expect(pickVariant(variants, undefined, ['fp32', 'fp16']).file).toBe('b');
    expect(pickVariant(variants, undefined, ['fp32']).file).toBe('a');
    expect(() => pickVariant(variants, 'fp32', [])).toThrow('the pack has no fp32 variant (it has q8, fp16)');
  });
});

describe('FolderPackSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agqg-pack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads files, reports missing ones as null, and refuses paths outside the folder', async () => {
    mkdirSync(join(dir, 'p'));
    writeFileSync(join(dir, 'p', 'a.txt'), 'hello');
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    const src = new FolderPackSource(join(dir, 'p'));
    expect(new TextDecoder().decode((await src.readBytes('a.txt')) ?? new Uint8Array())).toBe('hello');
    expect(await src.size('a.txt')).toBe(5);
    expect(await src.readBytes('nope.txt')).toBeNull();
    expect(await src.size('nope.txt')).toBeNull();
    await expect(src.readBytes('../secret.txt')).rejects.toMatchObject({
      code: 'pack_invalid',
      message: expect.stringContaining('outside the pack folder'),
    });
    await expect(src.size('/etc/passwd')).rejects.toMatchObject({ code: 'pack_invalid' });
  });
});

describeShared('Hugging Face CLIP folder as a pack', ['fixtures/tiny-clip'], () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-hf-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('infers tiny-clip as a pack with a text encoder and zero-shot, uncalibrated heads', async () => {
    const { manifest: m } = await openPackDir(TINY());
    expect(m.id).toBe('tiny-clip');
    expect(m.provenance.inferred).toBe(true);
    expect(m.vision.variants).toEqual([{ dtype: 'fp32', file: 'onnx/vision_model.onnx' }]);
    expect(m.vision.inputs.map((i) => i.name)).toEqual(['pixel_values']);
    // Width from config.json's projection_dim (32 in the fixture).
    expect(m.vision.output).toMatchObject({ name: 'image_embeds', shape: ['batch', 32] });
    // Two images per run on WASM (hf-clip.ts says why); WebGPU is left to the page's default.
    expect(m.vision.imagesPerRun).toEqual({ wasm: 2 });
    expect(m.text).toMatchObject({
      inputIds: 'input_ids',
      attentionMask: 'attention_mask',
      tokenizer: { tokenizerJson: 'tokenizer.json' },
      contextLength: 77,
    });
    expect(m.files.map((f) => f.path)).toContain('tokenizer_config.json');
    expect(m.heads.quality).toMatchObject({ type: 'zero-shot-quality', uncalibrated: true });
    expect(m.heads.alignment).toMatchObject({ type: 'zero-shot-alignment', uncalibrated: true });
  });

  it('infers a folder without text encoder as a vision-only pack with no heads', async () => {
    const dir = join(tmp, 'vision-only');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'preprocessor_config.json', 'onnx/vision_model.onnx'])
      symlinkSync(TINY(f), join(dir, f));
    const { manifest: m } = await openPackDir(dir);
    expect(m.text).toBeNull();
    expect(m.heads).toEqual({ quality: null, alignment: null });
  });

  it('is not a pack without a vision graph', async () => {
    const dir = join(tmp, 'no-vision');
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'preprocessor_config.json']) symlinkSync(TINY(f), join(dir, f));
    await expect(openPackDir(dir)).rejects.toMatchObject({
      code: 'pack_invalid',
      message: expect.stringContaining('is not a pack'),
    });
  });
});
