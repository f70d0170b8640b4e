// libjpeg-turbo (TurboJPEG API) compiled to WebAssembly, from @cwasm/jpeg-turbo,
// driven directly rather than through its index.js so that failures are clean:
// the package's wasm has no real setjmp, so libjpeg's error exit unwinds as a JS
// exception and leaves the module's C stack pointer behind. After any failure the
// instance is thrown away and the next decode gets a fresh one.
//
// Decoding options are libjpeg's defaults (flags 0: ISLOW integer IDCT, fancy
// upsampling), which is what PIL uses, so pixels match PIL's exactly.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The Node typings here (lib ES2022, no DOM) do not declare WebAssembly; this is the part we use.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const TJPF_RGBA = 7;
/** CMYK as libjpeg hands it back (Adobe files store it inverted; see jpeg-cmyk.ts). */
const TJPF_CMYK = 11;
const TJ_DEFAULT_FLAGS = 0;
// A decode of a large image leaves wasm memory grown; past this we start afresh
// rather than keep hundreds of MB for the rest of the process.
const KEEP_MEMORY_BYTES = 256 * 1024 * 1024;

interface TurboExports {
  memory: WasmMemory;
  malloc(size: number): number;
  free(ptr: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(
    handle: number,
    buf: number,
    size: number,
    w: number,
    h: number,
    subsamp: number,
    colorspace: number,
  ): number;
  tjDecompress2(
    handle: number,
    buf: number,
    size: number,
    dst: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
}

/** libjpeg gave up; `message` is what it printed, when it printed anything. */
export class JpegError extends Error {}

class LongJmp extends Error {}

let compiled: WasmModule | null = null;
let current: { exports: TurboExports; messages: string[] } | null = null;

function instantiate(): { exports: TurboExports; messages: string[] } {
  if (!compiled) {
    const require = createRequire(import.meta.url);
    compiled = new WA.Module(readFileSync(require.resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm')));
  }
  const messages: string[] = [];
  let memory: WasmMemory | null = null;
  const view = () => new DataView((memory as WasmMemory).buffer);
  const imports = {
    env: {
      setjmp: () => 0,
      longjmp: () => {
        throw new LongJmp('libjpeg stopped on invalid JPEG data');
      },
    },
    wasi_snapshot_preview1: {
      environ_sizes_get: (countPtr: number, sizePtr: number) => {
        view().setUint32(countPtr, 0, true);
        view().setUint32(sizePtr, 0, true);
        return 0;
      },
      environ_get: () => 0,
      proc_exit: (code: number) => {
        throw new LongJmp(`libjpeg exited (${code})`);
      },
      fd_close: () => 0,
      fd_seek: () => 0,
      // libjpeg prints warnings and errors to stderr: keep them as the reason for a failure.
      fd_write: (_fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
        const dv = view();
        let total = 0;
        let text = '';
        for (let i = 0; i < iovsLen; i++) {
          const ptr = dv.getUint32(iovs + i * 8, true);
          const len = dv.getUint32(iovs + i * 8 + 4, true);
          text += Buffer.from(dv.buffer, ptr, len).toString('latin1');
          total += len;
        }
        const line = text.trim();
        if (line) messages.push(line);
        dv.setUint32(nwrittenPtr, total, true);
        return 0;
      },
    },
  };
  const inst = new WA.Instance(compiled, imports);
  const exports = inst.exports as unknown as TurboExports;
  memory = exports.memory;
  return { exports, messages };
}

export interface JpegPixels {
  width: number;
  height: number;
  /** RGBA; greyscale JPEGs come out with R=G=B, as PIL's convert("RGB") gives. */
  data: Uint8Array;
  /** libjpeg warnings (e.g. corrupt data it could skip); PIL ignores these too. */
  warnings: string[];
}

/**
 * Decodes a (header-checked) JPEG to RGBA, or with `cmyk` a CMYK JPEG to its four channels as
 * stored (`data` then holds C, M, Y, K per pixel). Throws JpegError with libjpeg's message.
 */
export function decodeJpegRgba(bytes: Uint8Array, cmyk = false): JpegPixels {
  current ??= instantiate();
  const { exports: tj, messages } = current;
  messages.length = 0;
  let ok = false;
  try {
    const handle = tj.tjInitDecompress();
    if (!handle) throw new JpegError('could not start the JPEG decoder');
    const src = tj.malloc(bytes.length);
    const meta = tj.malloc(16);
    if (!src || !meta) throw new JpegError('out of memory for the JPEG decoder');
    new Uint8Array(tj.memory.buffer, src, bytes.length).set(bytes);
    if (tj.tjDecompressHeader3(handle, src, bytes.length, meta, meta + 4, meta + 8, meta + 12) !== 0) {
      throw new JpegError(messages.join('; ') || 'unreadable JPEG header');
    }
    const [width, height] = new Int32Array(tj.memory.buffer, meta, 2);
    const size = width * height * 4;
    const dst = tj.malloc(size);
    if (!dst) throw new JpegError(`out of memory decoding a ${width}x${height} JPEG`);
    // A non-zero status without an error exit means warnings only: the pixels are all written.
    const format = cmyk ? TJPF_CMYK : TJPF_RGBA;
    tj.tjDecompress2(handle, src, bytes.length, dst, width, width * 4, height, format, TJ_DEFAULT_FLAGS);
    const data = new Uint8Array(size);
    data.set(new Uint8Array(tj.memory.buffer, dst, size));
    tj.free(dst);
    tj.free(meta);
    tj.free(src);
    tj.tjDestroy(handle);
    ok = true;
    return { width, height, data, warnings: [...messages] };
  } catch (e) {
    if (e instanceof JpegError) throw e;
    if (e instanceof LongJmp) throw new JpegError(messages.join('; ') || e.message);
    // A trap (out-of-bounds access, memory exhausted) inside the decoder.
    if (e instanceof Error && (e.name === 'RuntimeError' || e instanceof RangeError)) {
      throw new JpegError(`the JPEG decoder failed: ${e.message}`);
    }
    throw e;
  } finally {
    if (!ok || current.exports.memory.buffer.byteLength > KEEP_MEMORY_BYTES) current = null;
  }
}
