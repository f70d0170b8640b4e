// The CLI's decoders for the formats beyond PNG and JPEG that the page reads:
// WebP, GIF (first frame) and AVIF through sharp (libvips, whose binaries ship
// in its npm packages), BMP through libnsbmp in WebAssembly (@cwasm/nsbmp;
// libvips has no BMP loader). They decode as the page does: no colour
// management (the page's createImageBitmap uses colorSpaceConversion "none"),
// EXIF orientation applied, 8 bits per channel, alpha kept and then dropped by
// preprocessing like PIL's convert("RGB").
import { createRequire } from 'node:module';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { FORMAT_NAME, type ImageFormat } from '../model/image/image-header.ts';
import { MAX_IMAGE_PIXELS } from '../model/limits.ts';

type SharpModule = typeof import('sharp').default;

let sharpModule: Promise<SharpModule> | null = null;

function loadSharp(): Promise<SharpModule> {
  sharpModule ??= import('sharp').then(({ default: sharp }) => {
    // One image at a time per thread, nothing cached between files: memory stays the image's own.
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return sharpModule;
}

/** Decodes WebP, GIF (its first frame) or AVIF bytes to RGBA. Throws AgqgError decode_failed. */
export async function decodeWithSharp(
  bytes: Uint8Array,
  name: string,
  format: ImageFormat,
): Promise<RgbaImage> {
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(bytes, {
      autoOrient: true,
      ignoreIcc: true,
      failOn: 'error',
      limitInputPixels: MAX_IMAGE_PIXELS,
      pages: 1,
    })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height * 4),
    };
  } catch (e) {
    throw new AgqgError(
      'decode_failed',
      `${name}: the ${FORMAT_NAME[format]} data is corrupt or truncated (${plainSharpMessage(e)})`,
      { cause: e },
    );
  }
}

/** libvips' message without its internal prefixes ("VipsForeignLoad...: ") and trailing noise. */
function plainSharpMessage(e: unknown): string {
  const raw = (e as Error)?.message ?? String(e);
  const line = raw.split('\n').find((l) => l.trim() !== '') ?? raw;
  return line.replace(/^[A-Za-z]*load[A-Za-z_]*: /, '').trim() || 'libvips could not read it';
}

interface NsBmp {
  decode(source: Uint8Array): { width: number; height: number; data: Uint8ClampedArray };
}

let nsbmp: NsBmp | null = null;

/** Decodes BMP bytes to RGBA (libnsbmp, the NetSurf browser's decoder). Throws AgqgError decode_failed. */
export function decodeBmp(bytes: Uint8Array, name: string): RgbaImage {
  nsbmp ??= createRequire(import.meta.url)('@cwasm/nsbmp') as NsBmp;
  try {
    const { width, height, data } = nsbmp.decode(bytes);
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new AgqgError('decode_failed', `${name}: the BMP data is corrupt or truncated`, { cause: e });
  }
}
