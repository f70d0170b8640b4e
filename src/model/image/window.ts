// The part of a resized image that one call computes: preprocessing crops as it
// resizes, so the kernels (resample, align-corners, their wasm ports) only
// compute the pixels the crop keeps.

/** A rectangle [x, x+width) x [y, y+height) of the resized image. */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}
