// The pure core runs in browsers, workers and Node; these globals exist in all
// three, but the ES lib (which keeps DOM and Node types out) does not declare them.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
