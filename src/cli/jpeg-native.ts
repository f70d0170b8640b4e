// The optional native JPEG decoder (native/jpeg-decode.c, built at install by
// scripts/build-native.mjs when a C compiler and libjpeg-turbo's headers are
// there): the system's libjpeg-turbo with its SIMD code, 2-5x faster than the
// WebAssembly build, with the same settings and so the same pixels (test/jpeg-native.test.ts
// checks every AGIQA-3K image). Without it, decoding uses the WebAssembly build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeJpeg {
  decode(
    bytes: Uint8Array,
    into?: Uint8Array,
  ): { width: number; height: number; data: Uint8Array; warnings: number };
  jpegLibVersion: number;
}

/** Where scripts/build-native.mjs puts the addon. */
export const NATIVE_JPEG_PATH = fileURLToPath(new URL('../../build/agqg-jpeg.node', import.meta.url));

/** Which JPEG decoder to use: the native one when it is built (`auto`), or always the WebAssembly one. */
export type JpegDecoderChoice = 'auto' | 'wasm';

let loaded: { addon: NativeJpeg | null; why: string } | null = null;

function load(): { addon: NativeJpeg | null; why: string } {
  if (process.env.AGQG_JPEG_DECODER === 'wasm') return { addon: null, why: 'AGQG_JPEG_DECODER=wasm' };
  if (!existsSync(NATIVE_JPEG_PATH))
    return {
      addon: null,
      why: `not built (${NATIVE_JPEG_PATH}; npm install builds it when cc and libjpeg-turbo's headers are there)`,
    };
  try {
    const addon = createRequire(import.meta.url)(NATIVE_JPEG_PATH) as NativeJpeg;
    if (typeof addon.decode !== 'function')
      return { addon: null, why: `${NATIVE_JPEG_PATH} has no decode()` };
    return { addon, why: 'loaded' };
  } catch (e) {
    return { addon: null, why: `${NATIVE_JPEG_PATH} did not load: ${(e as Error).message}` };
  }
}

/** The native decoder, or null (and why) when it is not built, does not load or is turned off. */
export function nativeJpeg(): NativeJpeg | null {
  loaded ??= load();
  return loaded.addon;
}

/** Why the native decoder is or is not in use, for benchmarks and tests. */
export function nativeJpegStatus(): string {
  loaded ??= load();
  return loaded.why;
}
