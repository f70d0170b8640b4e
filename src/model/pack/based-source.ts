// A pack that uses another pack's encoder by reference (a head calibrated in the
// page): its own files come from `own`, the files its manifest marks
// `from: "base"` from the base pack's source. Every read is still checked against
// the manifest's size and sha256 (readPackFile), so only that encoder is used.
import { AgqgError } from '../errors.ts';
import { MANIFEST_FILE, type Manifest } from './manifest.ts';
import { readPackFile, type OpenedPack, type PackSource } from './pack.ts';

export class BasedPackSource implements PackSource {
  private readonly fromBase: ReadonlySet<string>;

  constructor(
    readonly own: PackSource,
    readonly base: PackSource | null,
    manifest: Manifest,
  ) {
    this.fromBase = new Set(manifest.files.filter((f) => f.from === 'base').map((f) => f.path));
    if (this.fromBase.size > 0 && !base) {
      throw new AgqgError(
        'pack_file_missing',
        `pack "${manifest.id}" uses the encoder of pack "${manifest.base?.id}", which this site does not serve`,
      );
    }
  }

  get location(): string {
    return this.own.location;
  }

  private pick(path: string): PackSource {
    return this.fromBase.has(path) ? (this.base as PackSource) : this.own;
  }

  readBytes(path: string): Promise<Uint8Array | null> {
    return this.pick(path).readBytes(path);
  }

  size(path: string): Promise<number | null> {
    return this.pick(path).size(path);
  }
}

/** The manifest of a self-contained copy (export): every file is in the folder, the base stays as provenance. */
export function selfContained(m: Manifest): Manifest {
  return { ...m, files: m.files.map(({ from: _from, ...f }) => f) };
}

/**
 * Every file of a pack as one self-contained folder (the export): the base pack's files are
 * read, checked against their hashes and included, and the manifest no longer marks them
 * `from: "base"`, so `agqg score --pack DIR` reads the folder as any other pack.
 */
export async function selfContainedFiles(pack: OpenedPack): Promise<{ path: string; bytes: Uint8Array }[]> {
  const out: { path: string; bytes: Uint8Array }[] = [];
  for (const f of pack.manifest.files) out.push({ path: f.path, bytes: await readPackFile(pack, f.path) });
  const manifest = selfContained(pack.manifest);
  out.push({
    path: MANIFEST_FILE,
    bytes: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  });
  return out;
}
