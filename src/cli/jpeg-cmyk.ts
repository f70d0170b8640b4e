// CMYK JPEGs (print files, mostly from Photoshop) to RGB, the way PIL's
// Image.open(...).convert("RGB") does it, which is also the browsers' naive
// conversion (no ICC profile, as the page decodes): R = (255-C)(255-K)/255, and
// likewise G from M and B from Y. Adobe's files store the channels inverted;
// PIL reads them as inverted when the Adobe APP14 marker is there, so do we.
import type { RgbaImage } from '../model/image/image.ts';
import { decodeJpegRgba } from './jpeg-turbo.ts';

const APP14 = 0xee;
const SOS = 0xda;
const ADOBE = 'Adobe';
const OPAQUE = 255;

/** True when the JPEG has an Adobe APP14 segment (its CMYK is stored inverted). */
export function hasAdobeMarker(b: Uint8Array): boolean {
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1];
    if (marker === SOS) return false;
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker === APP14 && String.fromCharCode(...b.subarray(i + 4, i + 4 + ADOBE.length)) === ADOBE)
      return true;
    i += 2 + len;
  }
  return false;
}

/** PIL's MULDIV255: a*b/255 rounded, in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Decodes a CMYK (or YCCK) JPEG to RGBA. Throws JpegError when libjpeg fails. */
export function decodeCmykJpeg(bytes: Uint8Array): RgbaImage {
  const { width, height, data } = decodeJpegRgba(bytes, true);
  const inverted = hasAdobeMarker(bytes);
  for (let i = 0; i < data.length; i += 4) {
    // True (not inverted) ink amounts, as PIL's "CMYK;I" raw mode gives them for Adobe files.
    const c = inverted ? OPAQUE - data[i] : data[i];
    const m = inverted ? OPAQUE - data[i + 1] : data[i + 1];
    const y = inverted ? OPAQUE - data[i + 2] : data[i + 2];
    const nk = OPAQUE - (inverted ? OPAQUE - data[i + 3] : data[i + 3]);
    // Pillow's cmyk2rgb (Convert.c): nk - c*nk/255.
    data[i] = nk - mulDiv255(c, nk);
    data[i + 1] = nk - mulDiv255(m, nk);
    data[i + 2] = nk - mulDiv255(y, nk);
    data[i + 3] = OPAQUE;
  }
  return { width, height, data };
}
