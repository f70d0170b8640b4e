// Reading a TF.js GraphDef node: its attributes (strings base64-encoded, as
// model.json stores them) and its data inputs, and the error every
// conversion failure raises.
import { AgqgError } from '../../model/errors.ts';
import type { TfAttrValue, TfNodeDef } from './nsfwjs-source.ts';

export function fail(message: string): AgqgError {
  return new AgqgError('pack_invalid', `TF graph conversion: ${message}`);
}

function decodeB64(s: string): string {
  // TF.js model.json stores string attributes base64-encoded.
  return Buffer.from(s, 'base64').toString('utf8');
}

export function attrString(node: TfNodeDef, key: string): string | undefined {
  const v = node.attr?.[key]?.s;
  return v === undefined ? undefined : decodeB64(v);
}

export function attrInts(node: TfNodeDef, key: string): number[] | undefined {
  const v = node.attr?.[key]?.list?.i;
  return v === undefined ? undefined : v.map(Number);
}

export function attrStrings(node: TfNodeDef, key: string): string[] {
  return (node.attr?.[key]?.list?.s ?? []).map(decodeB64);
}

export function attrNumber(node: TfNodeDef, key: string): number | undefined {
  const v: TfAttrValue | undefined = node.attr?.[key];
  if (v?.i !== undefined) return Number(v.i);
  return v?.f;
}

export function dataInputs(node: TfNodeDef): string[] {
  return (node.input ?? [])
    .filter((i) => !i.startsWith('^'))
    .map((i) => {
      const m = /^(.*):(\d+)$/.exec(i);
      if (m && m[2] !== '0')
        throw fail(`${node.name} reads output ${m[2]} of ${m[1]}; only single-output ops are supported`);
      return m ? m[1] : i;
    });
}
