// Body of a decode worker (see decode-pool.ts): reads, decodes and preprocesses
// the files it is sent, and sends the tensors (or pixels) back without copying them.
import { parentPort } from 'node:worker_threads';
import { toErrorInfo } from '../model/errors.ts';
import { isPrepared } from '../model/image/prepared.ts';
import { readAndPrepare } from './image-reader.ts';
import type { DecodeReply, DecodeRequest } from './decode-protocol.ts';

if (!parentPort) throw new Error('decode-worker.ts runs as a worker thread (see decode-pool.ts)');
const port = parentPort;

// One file at a time: each stage's time is then its own work, not waiting behind other files,
// and only one file's bytes are held at once.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: DecodeRequest) => {
  queue = queue.then(() => handle(req));
});

/** `view`'s bytes as a whole buffer that can be moved: fresh arrays move as they are, views are copied. */
function movable<T extends Uint8Array | Uint8ClampedArray | Float32Array>(view: T, copy: (v: T) => T): T {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : copy(view);
}

function handle(req: DecodeRequest): Promise<void> {
  return readAndPrepare(req.path, req.prepare, req.jpeg, req.bytes).then(
    ({ img, stages }) => {
      if (isPrepared(img)) {
        const inputs = img.inputs.map((t) => movable(t, (v) => new Float32Array(v)));
        const reply: DecodeReply = {
          id: req.id,
          ok: true,
          width: img.width,
          height: img.height,
          caveat: img.caveat ?? null,
          inputs,
          stages,
        };
        port.postMessage(
          reply,
          inputs.map((t) => t.buffer as ArrayBuffer),
        );
        return;
      }
      const data = new Uint8Array(movable(img.data, (v) => new Uint8Array(v)).buffer, 0, img.data.byteLength);
      const { width, height } = img;
      const reply: DecodeReply = {
        id: req.id,
        ok: true,
        width,
        height,
        caveat: img.caveat ?? null,
        data,
        stages,
      };
      port.postMessage(reply, [data.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: DecodeReply = { id: req.id, ok: false, error: toErrorInfo(err) };
      port.postMessage(reply);
    },
  );
}
