// Test helper: writes WebDataset tar shards with tar-stream's packer (members in
// the order given), so tests build small shards from ../shared images at run time.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';

export interface Member {
  name: string;
  data: Uint8Array | string;
  type?: 'file' | 'directory' | 'symlink';
}

export async function writeShard(
  path: string,
  members: readonly Member[],
  truncateTo?: number,
): Promise<void> {
  const p = pack();
  const done = pipeline(p, createWriteStream(path));
  for (const m of members) {
    const body = typeof m.data === 'string' ? Buffer.from(m.data) : Buffer.from(m.data);
    if (m.type === 'directory') p.entry({ name: m.name, type: 'directory' });
    else if (m.type === 'symlink') p.entry({ name: m.name, type: 'symlink', linkname: String(m.data) });
    else p.entry({ name: m.name, size: body.byteLength }, body);
  }
  p.finalize();
  await done;
  if (truncateTo !== undefined) {
    const { truncateSync } = await import('node:fs');
    truncateSync(path, truncateTo);
  }
}
