// Which weight variant a pack runs with when the user has not picked one.
// WebGPU runs float graphs well and has no fast path for the integer ops of
// quantized exports (MatMulInteger, DynamicQuantizeLinear), so it gets full
// precision; WASM has int8 kernels, and q8 is a quarter of the download.
import type { Variant, VariantDtype } from '../model/pack/manifest.ts';
import type { BackendKind } from './ort-web.ts';

export const BACKEND_VARIANT_PREFERENCE: Readonly<Record<BackendKind, readonly VariantDtype[]>> = {
  webgpu: ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4f16', 'q4', 'bnb4'],
  wasm: ['q8', 'fp32', 'fp16', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'],
};

/** The variant to load on `backend`: the first of its preference that the pack has, else the first listed. */
export function defaultVariant(variants: readonly Variant[], backend: BackendKind): VariantDtype {
  for (const dtype of BACKEND_VARIANT_PREFERENCE[backend]) {
    if (variants.some((v) => v.dtype === dtype)) return dtype;
  }
  return variants[0].dtype;
}

/** Why this variant runs, for the page's tooltip. */
export function variantReason(
  chosen: VariantDtype,
  asked: VariantDtype | undefined,
  backend: BackendKind,
): string {
  if (asked) return `${chosen} chosen on this page`;
  return backend === 'webgpu'
    ? `${chosen}: the default on WebGPU (full-precision weights first)`
    : `${chosen}: the default on WASM (8-bit weights when the pack has them, else full precision)`;
}
