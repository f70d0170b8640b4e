// `agqg embed` on the tiny-clip fixture against the reference pipeline
// (transformers + PIL + PyTorch): decoding, preprocessing, tokenizing and the
// ONNX encoders together must give the reference embeddings.
import { beforeAll, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { describeShared } from './shared.ts';
import { loadRefs, refCosine as cosine, REFS, TINY, type Refs } from './tiny-pack.ts';

interface EmbedDoc {
  images: { file: string; embedding: number[] | null; error: { code: string } | null }[];
  texts: { text: string; embedding: number[] }[];
}

describeShared(
  'agqg embed parity with the reference CLIP pipeline',
  ['fixtures/tiny-clip', 'fixtures/tiny-clip-refs/refs.json'],
  () => {
    let refs: Refs;
    let doc: EmbedDoc;

    beforeAll(async () => {
      refs = loadRefs();
      const args = ['embed', '--pack', TINY(), '--json'];
      for (const im of refs.images) args.push('--image', REFS(im.file));
      for (const p of refs.prompts) args.push('--text', p.text);
      const io = bufferIO();
      const code = await main(args, io);
      expect(code, io.stderr()).toBe(0);
      doc = JSON.parse(io.stdout()) as EmbedDoc;
    });

    it('embeds every reference image within the documented tolerance', () => {
      expect(doc.images).toHaveLength(refs.images.length);
      refs.images.forEach((ref, i) => {
        const got = doc.images[i];
        expect(got.error, ref.file).toBeNull();
        expect(got.embedding).toHaveLength(ref.image_embeds.length);
        // PNG decodes exactly; JPEG decoders may differ from libjpeg by rounding.
        const min = ref.file.endsWith('.png') ? 0.9999 : 0.999;
        expect(cosine(got.embedding as number[], ref.image_embeds), ref.file).toBeGreaterThanOrEqual(min);
      });
    });

    it('embeds every reference prompt (empty, unicode, over 77 tokens) with cosine >= 0.9999', () => {
      expect(doc.texts.map((t) => t.text)).toEqual(refs.prompts.map((p) => p.text));
      refs.prompts.forEach((ref, i) => {
        expect(
          cosine(doc.texts[i].embedding, ref.text_embeds),
          JSON.stringify(ref.text),
        ).toBeGreaterThanOrEqual(0.9999);
      });
    });

    it('tells images apart: each embedding is closest to its own reference', () => {
      refs.images.forEach((ref, i) => {
        const sims = refs.images.map((other) =>
          cosine(doc.images[i].embedding as number[], other.image_embeds),
        );
        expect(sims.indexOf(Math.max(...sims)), ref.file).toBe(i);
      });
    });
  },
);
