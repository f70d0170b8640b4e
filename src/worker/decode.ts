// File bytes -> RGBA pixels in the worker. The header is read first (format,
// size, truncation) so bombs and non-images are refused before any decoder
// runs; the browser's decoder then does the rest without colour management,
// like the Node decoders.
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { FORMAT_NAME, readImageHeader, type ImageHeader } from '../model/image/image-header.ts';
import { pngToRgba } from '../model/image/png.ts';
import { imageCaveat } from '../model/image/caveat.ts';
import { pngHasAlpha } from './png-alpha.ts';

export interface Decoded {
  image: RgbaImage;
  bitmap: ImageBitmap;
  header: ImageHeader;
}

type Ctx2D = OffscreenCanvasRenderingContext2D;

function context2d(canvas: OffscreenCanvas): Ctx2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as Ctx2D | null;
  if (!ctx) throw new AgqgError('internal', 'OffscreenCanvas 2D context is not available in this browser');
  return ctx;
}

export async function decodeImage(bytes: ArrayBuffer, name: string): Promise<Decoded> {
  const header = readImageHeader(new Uint8Array(bytes), name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: header.mime }), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (err) {
    throw new AgqgError(
      'decode_failed',
      `${name}: the browser could not decode this ${FORMAT_NAME[header.format]} file: its data is corrupt or uses a feature this browser does not support`,
      { cause: err },
    );
  }
  if (bitmap.width !== header.width || bitmap.height !== header.height) {
    // EXIF rotation swaps the axes; any other mismatch means the header lied.
    const rotated = bitmap.width === header.height && bitmap.height === header.width;
    if (!rotated) {
      bitmap.close();
      throw new AgqgError(
        'decode_failed',
        `${name}: decoded ${bitmap.width}x${bitmap.height} but the header says ${header.width}x${header.height}`,
      );
    }
  }
  if (header.format === 'png' && pngHasAlpha(new Uint8Array(bytes))) {
    // The bitmap still makes the thumbnail; the pixels come straight, not through premultiplied alpha.
    try {
      const image = pngToRgba(new Uint8Array(bytes), name);
      if (image.width === bitmap.width && image.height === bitmap.height)
        return { image: { ...image, caveat: imageCaveat(image) }, bitmap, header };
    } catch (err) {
      bitmap.close();
      throw err;
    }
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = context2d(canvas);
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const image = { width: bitmap.width, height: bitmap.height, data };
  return { image: { ...image, caveat: imageCaveat(image) }, bitmap, header };
}

/** A small JPEG of the image for cards, so the page never decodes the original again. */
export async function thumbnail(bitmap: ImageBitmap, maxEdge: number): Promise<Blob> {
  const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = context2d(canvas);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}
