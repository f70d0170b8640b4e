// Body of a decode worker (see decode-pool.ts): reads, decodes and pre-resizes
// the files it is sent, and sends the pixels back without copying them.
import { parentPort } from 'node:worker_threads';
import { toErrorInfo } from '../model/errors';
import { readDecodeResize } from './image-reader';
import type { DecodeReply, DecodeRequest } from './decode-protocol';

if (!parentPort) throw new Error('decode-worker.ts runs as a worker thread (see decode-pool.ts)');
const port = parentPort;

// One file at a time: each stage's time is then its own work, not waiting behind other files,
// and only one file's bytes are held at once.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: DecodeRequest) => {
  queue = queue.then(() => handle(req));
});

function handle(req: DecodeRequest): Promise<void> {
  return readDecodeResize(req.path, req.resize).then(
    ({ img, stages }) => {
      // Decoders return fresh arrays, so the whole buffer can move; a view into a larger one is copied first.
      const whole = img.data.byteOffset === 0 && img.data.byteLength === img.data.buffer.byteLength;
      const data = whole ? new Uint8Array(img.data.buffer, 0, img.data.byteLength) : new Uint8Array(img.data);
      const reply: DecodeReply = { id: req.id, ok: true, width: img.width, height: img.height, data, stages };
      port.postMessage(reply, [data.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: DecodeReply = { id: req.id, ok: false, error: toErrorInfo(err) };
      port.postMessage(reply);
    },
  );
}
