// Image -> model input tensor, identical in the browser worker and in Node.
// 'pil' mode reproduces openai/CLIP's transform (torchvision Resize with PIL
// bicubic, CenterCrop, ToTensor, Normalize) and so HF CLIPImageProcessor's;
// see docs/preprocessing.md for where the two differ and which one we follow.
import { alignCornersBilinear } from './align-corners.ts';
import type { ChannelNormalisation } from './align-corners-plan.ts';
import { AgqgError } from '../errors.ts';
import { assertRgbaImage, type RgbaImage } from './image.ts';
import type { PreprocessConfig } from './preprocess-config.ts';
import { pilResizeRgb } from './resample.ts';
import type { Window } from './window.ts';

export type { RgbaImage } from './image.ts';
export {
  PreprocessConfigSchema,
  parsePreprocessConfig,
  PIL_RESAMPLE,
  type PreprocessConfig,
  type PreprocessConfigInput,
} from './preprocess-config.ts';

const CHANNELS = 3;
const RGBA = 4;
const LEVELS = 256;

export interface Size {
  height: number;
  width: number;
}

/** Size after the resize step (before cropping). */
export function resizedSize(img: { width: number; height: number }, cfg: PreprocessConfig): Size {
  const { width: w, height: h } = img;
  if (!cfg.do_resize || cfg.agqg_crop === 'center') return { height: h, width: w };
  const size = cfg.size;
  if ('height' in size) return { height: size.height, width: size.width };
  // torchvision/HF: short side = requested, long side = int(requested * long / short).
  const target = size.shortest_edge;
  if (w <= h) return { width: target, height: Math.trunc((target * h) / w) };
  return { height: target, width: Math.trunc((target * w) / h) };
}

/** The tensor's spatial size for an image of this size. */
export function outputSize(img: { width: number; height: number }, cfg: PreprocessConfig): Size {
  if (cfg.do_center_crop || cfg.agqg_crop === 'center') return { ...cfg.crop_size };
  return resizedSize(img, cfg);
}

// Python's round(): half to even. torchvision's CenterCrop offset is
// int(round((size - crop) / 2.0)); HF's floor division differs when size - crop ≡ 3 (mod 4).
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Offset of the crop in the resized image; negative = zero padding (torchvision pads (crop-size)//2 before). */
export function cropOffset(size: number, crop: number): number {
  if (crop > size) return -Math.floor((crop - size) / 2);
  return roundHalfEven((size - crop) / 2);
}

/** Where an image's resized pixels land in the model input (resize, then centre crop or pad). */
export interface PreprocessPlan {
  resized: Size;
  out: Size;
  top: number;
  left: number;
  /** Part of the output that lies inside the resized image, in resized coordinates. */
  win: Window;
}

export function preprocessPlan(img: RgbaImage, cfg: PreprocessConfig): PreprocessPlan {
  const resized = resizedSize(img, cfg);
  const out = outputSize(img, cfg);
  const cropping = cfg.do_center_crop || cfg.agqg_crop === 'center';
  const top = cropping ? cropOffset(resized.height, out.height) : 0;
  const left = cropping ? cropOffset(resized.width, out.width) : 0;
  const y = Math.max(0, top);
  const x = Math.max(0, left);
  const win = {
    x,
    y,
    width: Math.min(resized.width, left + out.width) - x,
    height: Math.min(resized.height, top + out.height) - y,
  };
  return { resized, out, top, left, win };
}

// Float32 semantics of ToTensor (v/255) and Normalize ((x - mean) / std) in torch.
function rescaleLevels(cfg: PreprocessConfig): Float32Array {
  const t = new Float32Array(LEVELS);
  for (let v = 0; v < LEVELS; v++) t[v] = cfg.do_rescale ? v * cfg.rescale_factor : v;
  return t;
}

// Normalize's float32 constants; kernels that normalise in their own loop take them as they are.
function channelNormalisation(cfg: PreprocessConfig): ChannelNormalisation | null {
  if (!cfg.do_normalize) return null;
  const [m0, m1, m2] = cfg.image_mean.map(Math.fround);
  const [s0, s1, s2] = cfg.image_std.map(Math.fround);
  return { mean: [m0, m1, m2], std: [s0, s1, s2] };
}

function normaliser(n: ChannelNormalisation | null, c: number): (x: number) => number {
  if (!n) return (x) => x;
  const m = n.mean[c];
  const s = n.std[c];
  return (x) => Math.fround(x - m) / s;
}

// The table depends only on the config; configs are few and long-lived (one per pack input).
const lutCache = new WeakMap<PreprocessConfig, Float32Array>();
function lookupTable(
  cfg: PreprocessConfig,
  levels: Float32Array,
  norm: ((x: number) => number)[],
): Float32Array {
  let lut = lutCache.get(cfg);
  if (!lut) {
    lut = new Float32Array(CHANNELS * LEVELS);
    for (let c = 0; c < CHANNELS; c++)
      for (let v = 0; v < LEVELS; v++) lut[c * LEVELS + v] = norm[c](levels[v]);
    lutCache.set(cfg, lut);
  }
  return lut;
}

/** Writes the [3, H, W] float32 tensor of `img` into `out` at `offset` (for batching). */
export function preprocessInto(
  img: RgbaImage,
  cfg: PreprocessConfig,
  out: Float32Array,
  offset: number,
): void {
  assertRgbaImage(img);
  const plan = preprocessPlan(img, cfg);
  const { out: o, win, top, left, resized } = plan;
  const plane = o.height * o.width;
  if (!Number.isInteger(offset) || offset < 0 || offset + CHANNELS * plane > out.length) {
    throw new AgqgError(
      'internal',
      `output buffer of ${out.length} floats cannot take ${CHANNELS * plane} at offset ${offset}`,
    );
  }
  const levels = rescaleLevels(cfg);
  const normalisation = channelNormalisation(cfg);
  const norm = [0, 1, 2].map((c) => normaliser(normalisation, c));
  const padded = win.width < o.width || win.height < o.height;
  if (padded) {
    // torchvision pads with 0 before ToTensor/Normalize.
    for (let c = 0; c < CHANNELS; c++)
      out.fill(norm[c](levels[0]), offset + c * plane, offset + (c + 1) * plane);
  }
  if (win.width <= 0 || win.height <= 0) return;

  const dy = win.y - top;
  const dx = win.x - left;
  const n = win.width * win.height;
  if (cfg.agqg_resize.mode === 'align_corners_bilinear') {
    alignCornersBilinear({
      src: img.data,
      srcW: img.width,
      srcH: img.height,
      outW: resized.width,
      outH: resized.height,
      win,
      levels,
      norm: normalisation,
      dst: { data: out, offset: offset + dy * o.width + dx, rowStride: o.width, planeStride: plane },
    });
    return;
  }

  // An image already of the resized size is read in
  // place: PIL's resize to the same size is the identity, so only the window is needed.
  const identity = resized.width === img.width && resized.height === img.height;
  let px: Uint8Array | Uint8ClampedArray;
  let stride: number;
  let step: number;
  let first: number;
  if (identity) {
    px = img.data;
    stride = img.width * RGBA;
    step = RGBA;
    first = (win.y * img.width + win.x) * RGBA;
  } else {
    px = new Uint8Array(n * CHANNELS);
    pilResizeRgb(img.data, img.width, img.height, resized.width, resized.height, cfg.resample, win, px);
    stride = win.width * CHANNELS;
    step = CHANNELS;
    first = 0;
  }
  // 8-bit result: rescale + normalise is a per-channel lookup table; one pass writes the three planes.
  const lut = lookupTable(cfg, levels, norm);
  for (let y = 0; y < win.height; y++) {
    let d = offset + (dy + y) * o.width + dx;
    let s = first + y * stride;
    for (let x = 0; x < win.width; x++, s += step, d++) {
      out[d] = lut[px[s]];
      out[d + plane] = lut[LEVELS + px[s + 1]];
      out[d + 2 * plane] = lut[2 * LEVELS + px[s + 2]];
    }
  }
}

/** The model input for one image: NCHW float32 [1, 3, H, W]. */
export function preprocess(
  img: RgbaImage,
  cfg: PreprocessConfig,
): { data: Float32Array; dims: [1, 3, number, number] } {
  const { height, width } = outputSize(img, cfg);
  const data = new Float32Array(CHANNELS * height * width);
  preprocessInto(img, cfg, data, 0);
  return { data, dims: [1, CHANNELS, height, width] };
}
