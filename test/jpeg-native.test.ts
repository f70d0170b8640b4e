// The native JPEG decoder (native/jpeg-decode.c, the system's libjpeg-turbo) must give
// exactly the WebAssembly decoder's pixels, which are PIL's: it is only a faster path.
// Under CI=true it must be built (npm install builds it; .ci/run installs its headers);
// elsewhere, without it, this suite says SKIPPED.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeImage } from '../src/cli/decode.ts';
import { nativeJpeg, nativeJpegStatus } from '../src/cli/jpeg-native.ts';
import { describeShared, describeWhen, ROOT, sharedPath } from './shared.ts';

const FIX = join(ROOT, 'test', 'fixtures', 'decode');
const AGIQA = 'datasets/agiqa-3k/images';
const native = nativeJpeg();

const describeNative = (name: string, fn: () => void): void =>
  describeWhen(
    name,
    {
      missing: native ? null : `the native JPEG decoder is not in use (${nativeJpegStatus()})`,
      check: 'has the native JPEG decoder',
      ciHint: 'CI builds it at npm install (scripts/build-native.mjs needs cc and libjpeg62-turbo-dev).',
      tag: 'no native JPEG decoder',
    },
    fn,
  );

const same = (a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray): boolean =>
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

describeNative('native JPEG decoder', () => {
  const fixtures = ['baseline.jpg', 'progressive.jpg', 'grey.jpg'].map((f) => ({
    f,
    bytes: new Uint8Array(readFileSync(join(FIX, f))),
  }));

  it("decodes the test fixtures (baseline, progressive, greyscale) to the WebAssembly decoder's pixels", () => {
    for (const { f, bytes } of fixtures) {
      const n = decodeImage(bytes, f);
      const w = decodeImage(bytes, f, { jpeg: 'wasm' });
      expect([n.width, n.height], f).toEqual([w.width, w.height]);
      expect(same(n.data, w.data), f).toBe(true);
    }
  });

  it('decodes into a given buffer when it is big enough (a view of it), else into a new one', () => {
    const { bytes } = fixtures[0];
    const want = decodeImage(bytes, 'a.jpg', { jpeg: 'wasm' });
    const into = new Uint8Array(want.data.length + 100).fill(7);
    const got = decodeImage(bytes, 'a.jpg', { into });
    expect(got.data.buffer).toBe(into.buffer);
    expect(same(got.data, want.data)).toBe(true);
    // The part past the image is untouched.
    expect(into[want.data.length]).toBe(7);
    const small = new Uint8Array(16);
    const fresh = decodeImage(bytes, 'a.jpg', { into: small });
    expect(fresh.data.buffer).not.toBe(small.buffer);
    expect(same(fresh.data, want.data)).toBe(true);
  });

  it('refuses what it does not decode (CMYK, not a JPEG) with an error instead of crashing', () => {
    const cmyk = new Uint8Array(readFileSync(join(FIX, 'cmyk.jpg')));
    expect(() => native?.decode(cmyk)).toThrow(/greyscale and YCbCr/);
    expect(() => native?.decode(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toThrow();
    expect(() => native?.decode(new Uint8Array(0))).toThrow();
    // And keeps working afterwards.
    expect(native?.decode(fixtures[0].bytes).width).toBe(40);
  });
});

describeShared('native JPEG decoder on AGIQA-3K', [AGIQA], () => {
  describeNative('native JPEG decoder on AGIQA-3K', () => {
    it("gives the WebAssembly decoder's pixels on every 8th image of the dataset", () => {
      const names = readdirSync(sharedPath(AGIQA))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort();
      const picked = names.filter((_, i) => i % 8 === 0);
      expect(picked.length).toBeGreaterThan(250);
      let into: Uint8Array | null = null;
      for (const f of picked) {
        const bytes = new Uint8Array(readFileSync(sharedPath(AGIQA, f)));
        const w = decodeImage(bytes, f, { jpeg: 'wasm' });
        const n = decodeImage(bytes, f, { into });
        if (n.data.byteOffset === 0 && n.data.buffer instanceof ArrayBuffer)
          into = new Uint8Array(n.data.buffer);
        expect([n.width, n.height], f).toEqual([w.width, w.height]);
        expect(same(n.data, w.data), f).toBe(true);
      }
    });
  });
});
