// Collects files from a drop (folders included), a file picker, a directory picker or a paste.
export interface PickedFile {
  /** Path relative to what was dropped or picked (folders kept), forward slashes. */
  path: string;
  file: File;
}

interface FsEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
}
interface FsFileEntry extends FsEntry {
  file(ok: (f: File) => void, fail: (e: unknown) => void): void;
}
interface FsDirEntry extends FsEntry {
  createReader(): { readEntries(ok: (entries: FsEntry[]) => void, fail: (e: unknown) => void): void };
}

/** Inside picked folders only images and prompt CSVs are taken; loose files are always taken (and checked). */
const FOLDER_FILE = /\.(png|jpe?g|jfif|webp|gif|bmp|avif|csv)$/i;

async function readDir(dir: FsDirEntry): Promise<FsEntry[]> {
  const reader = dir.createReader();
  const all: FsEntry[] = [];
  // readEntries returns at most ~100 entries per call; call until it returns none.
  for (;;) {
    const batch = await new Promise<FsEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FsEntry, out: PickedFile[]): Promise<void> {
  // Folders carry hidden files (.DS_Store, ._x); nobody means to grade those.
  if (entry.name.startsWith('.') && entry.fullPath.split('/').length > 2) return;
  const inFolder = entry.fullPath.split('/').length > 2;
  if (entry.isFile) {
    if (inFolder && !FOLDER_FILE.test(entry.name)) return;
    const file = await new Promise<File>((ok, fail) => (entry as FsFileEntry).file(ok, fail));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readDir(entry as FsDirEntry)) await walk(child, out);
  }
}

/** Every file in a DataTransfer, descending into dropped folders. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FsEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = (
      item as DataTransferItem & { webkitGetAsEntry?: () => FsEntry | null }
    ).webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  // Entries must be taken synchronously (the DataTransfer empties after the event); reading them can wait.
  const out: PickedFile[] = [];
  for (const e of entries) await walk(e, out);
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files ?? []));
  for (const f of loose) out.push({ path: f.name, file: f });
  return out;
}

export function filesFromList(list: FileList | null, folder = false): PickedFile[] {
  const out = Array.from(list ?? [], (file) => ({
    path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
    file,
  }));
  return folder
    ? out.filter((f) => FOLDER_FILE.test(f.path) && !f.path.split('/').some((part) => part.startsWith('.')))
    : out;
}

export const isCsv = (f: PickedFile): boolean => /\.csv$/i.test(f.path) || f.file.type === 'text/csv';

/** The part of a File System Access directory handle (showDirectoryPicker) that the walk uses. */
export interface DirHandle {
  kind: 'directory';
  name: string;
  values(): AsyncIterable<DirHandle | { kind: 'file'; name: string; getFile(): Promise<File> }>;
}

async function walkHandle(dir: DirHandle, prefix: string, out: PickedFile[]): Promise<void> {
  for await (const entry of dir.values()) {
    if (entry.kind === 'file') out.push({ path: `${prefix}${entry.name}`, file: await entry.getFile() });
    else await walkHandle(entry, `${prefix}${entry.name}/`, out);
  }
}

/** Every file below a directory the File System Access picker gave, paths starting with its name. */
export async function filesFromDirectory(dir: DirHandle): Promise<PickedFile[]> {
  const files: PickedFile[] = [];
  await walkHandle(dir, `${dir.name}/`, files);
  return files;
}
