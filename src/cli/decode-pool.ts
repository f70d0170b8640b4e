// Decoding on worker threads, so that the next images are read, decoded and
// preprocessed while onnxruntime-node runs the encoder (its run() blocks the main
// thread). Each file goes to the worker with the fewest files in hand;
// answers come back per file, in any order, and callers keep their own order.
import { Worker } from 'node:worker_threads';
import { AgqgError } from '../model/errors.ts';
import type { PreprocessConfig } from '../model/image/preprocess.ts';
import type { DecodeReply, DecodeRequest } from './decode-protocol.ts';
import type { DecodedFile, ImageReader } from './image-reader.ts';
import type { JpegDecoderChoice } from './jpeg-native.ts';

const WORKER_ENTRY = new URL('./decode-worker.mjs', import.meta.url);

interface Pending {
  resolve: (f: DecodedFile) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class DecodePool implements ImageReader {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  /**
   * `threads` workers (at least 1), started now: create the pool before loading the pack and
   * they start up while it loads. `prepare`: the pack's vision input configs, once known; the
   * workers then hand back the encoder's tensors instead of pixels. `jpeg`: 'wasm' keeps the
   * native JPEG decoder out (benchmarks compare the two).
   */
  constructor(
    readonly threads: number,
    public prepare: PreprocessConfig[] | null = null,
    readonly jpeg: JpegDecoderChoice = 'auto',
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new AgqgError('invalid_argument', `a decode pool needs at least 1 thread, got ${threads}`);
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_ENTRY);
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: DecodeReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (!reply.ok) {
        p.reject(new AgqgError(reply.error.code, reply.error.message));
        return;
      }
      const { width, height, caveat, stages } = reply;
      // Timings travel in `stages`; the prepared image's own share is its preprocessing there.
      if ('inputs' in reply)
        p.resolve({
          img: { width, height, inputs: reply.inputs, preprocessMs: stages.preprocessMs, caveat },
          stages,
        });
      else p.resolve({ img: { width, height, data: reply.data, caveat }, stages });
    });
    // A worker that dies takes only the files it held with it; the next files get a new worker.
    let dead = false;
    const fail = (why: string): void => {
      if (dead) return;
      dead = true;
      for (const p of slot.pending.values())
        p.reject(new AgqgError('internal', `the decode worker stopped (${why})`));
      slot.pending.clear();
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
    };
    worker.on('error', (err: Error) => fail(err.message));
    worker.on('exit', (code) => {
      if (!this.closed) fail(`exit code ${code}`);
    });
    // Idle workers never keep the process alive; pending reads hold it through their promises' callers.
    worker.unref();
    return slot;
  }

  read(path: string, bytes?: Uint8Array): Promise<DecodedFile> {
    if (this.closed) return Promise.reject(new AgqgError('internal', 'the decode pool is closed'));
    let slot = this.slots[0];
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    return new Promise<DecodedFile>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      const req: DecodeRequest = { id, path, bytes, prepare: this.prepare, jpeg: this.jpeg };
      // Bytes that own their whole buffer move to the worker; a view into a larger one is copied.
      const whole = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      slot.worker.postMessage(req, whole ? [bytes.buffer as ArrayBuffer] : []);
    }).finally(() => {
      if (slot.pending.size === 0) slot.worker.unref();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
