// Resizing an image to the vision encoder's input size while it is decoded,
// off the thread that runs the encoder. The PIL path of preprocessing is
// resize -> crop -> uint8 -> rescale/normalise lookup; the uint8 crop is an
// image of the input's size that preprocessing maps to the same tensor
// (resizing to the size an image already has is PIL's identity), so handing
// it to the scorer instead of the full image changes no float and leaves the
// scorer only the lookup. Packs this does not hold for get the image as is.
import type { RgbaImage } from '../model/image';
import { cropOffset, outputSize, resizedSize, type PreprocessConfig } from '../model/preprocess';
import { pilResizeRgb } from '../model/resample';

const CHANNELS = 3;
const OPAQUE = 255;

export interface EncoderInputLike {
  preprocess: PreprocessConfig;
}

/**
 * The one preprocessing config an image can be pre-resized for, or null: every
 * input must share it (one resized image serves one config) and it must take
 * the 8-bit PIL path (the align-corners path keeps floats between resize and
 * normalise, so no 8-bit image can stand for its resize).
 */
export function preResizeConfig(inputs: readonly EncoderInputLike[]): PreprocessConfig | null {
  if (inputs.length === 0) return null;
  const cfg = inputs[0].preprocess;
  const key = JSON.stringify(cfg);
  if (inputs.some((i) => JSON.stringify(i.preprocess) !== key)) return null;
  if (cfg.agqg_resize.mode !== 'pil') return null;
  return cfg;
}

/** True when preprocessing an image of this size neither resizes nor crops it. */
function isFixedPoint(size: { width: number; height: number }, cfg: PreprocessConfig): boolean {
  const r = resizedSize(size, cfg);
  const o = outputSize(size, cfg);
  return r.width === size.width && r.height === size.height && o.width === size.width && o.height === size.height;
}

/**
 * `img` resized and cropped as preprocessing would (RGB from PIL's resample,
 * alpha opaque), or `img` itself when that would not give the same tensor
 * (padding, or an output size that preprocessing would resize again) or would
 * save nothing (the image already has the input's size).
 */
export function preResize(img: RgbaImage, cfg: PreprocessConfig): RgbaImage {
  const resized = resizedSize(img, cfg);
  const out = outputSize(img, cfg);
  if (out.width === img.width && out.height === img.height && resized.width === img.width && resized.height === img.height) {
    return img;
  }
  if (out.width > resized.width || out.height > resized.height || !isFixedPoint(out, cfg)) return img;
  const cropping = cfg.do_center_crop || cfg.agqg_crop === 'center';
  const top = cropping ? cropOffset(resized.height, out.height) : 0;
  const left = cropping ? cropOffset(resized.width, out.width) : 0;
  const n = out.width * out.height;
  const rgb = new Uint8Array(n * CHANNELS);
  pilResizeRgb(img.data, img.width, img.height, resized.width, resized.height, cfg.resample, { x: left, y: top, width: out.width, height: out.height }, rgb);
  const data = new Uint8Array(n * 4);
  for (let i = 0, s = 0, d = 0; i < n; i++, s += CHANNELS, d += 4) {
    data[d] = rgb[s];
    data[d + 1] = rgb[s + 1];
    data[d + 2] = rgb[s + 2];
    data[d + 3] = OPAQUE;
  }
  return { width: out.width, height: out.height, data };
}
