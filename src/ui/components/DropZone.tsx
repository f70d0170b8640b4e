import { useEffect, useRef, useState, type DragEvent } from 'react';
import { AgqgError, toErrorInfo } from '../../model/errors.ts';
import { filesFromDataTransfer, filesFromList, isCsv, type PickedFile } from '../files.ts';
import { promptsFromCsv } from '../prompts.ts';
import { nextTask } from '../paced.ts';
import { applyPromptMap, setNotice, stageFiles } from '../store.ts';

let intakes: Promise<void> = Promise.resolve();

/**
 * Stages images and applies any CSV of prompts that came with them. One intake at a time, in the
 * order given: a CSV given after its images finds them staged.
 */
export function intake(files: PickedFile[]): Promise<void> {
  const run = intakes.then(() => intakeNow(files));
  intakes = run.catch(() => undefined);
  return run;
}

async function intakeNow(files: PickedFile[]): Promise<void> {
  const csvs = files.filter(isCsv);
  const images = files.filter((f) => !isCsv(f));
  if (images.length) {
    // Not in the event that brought the files: the browser's own work on a hundred files (the file
    // list, the change event) is one task, the queue's first rows another.
    await nextTask();
    stageFiles(images);
  }
  for (const csv of csvs) {
    try {
      const map = promptsFromCsv(await csv.file.text(), csv.path);
      const n = applyPromptMap(map);
      setNotice({
        kind: 'info',
        text: `${csv.path}: prompts set for ${n} image${n === 1 ? '' : 's'} (${map.size} rows).`,
      });
    } catch (err) {
      const info = toErrorInfo(
        err instanceof AgqgError ? err : new AgqgError('unsupported_format', String(err)),
      );
      setNotice({ kind: 'error', text: `${csv.path}: ${info.message}` });
    }
  }
}

export function DropZone() {
  const [over, setOver] = useState(false);
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const target = e.target as HTMLElement | null;
      // Pasting text into a prompt box is typing, not adding images.
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length === 0) return;
      e.preventDefault();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      void intake(
        files.map((file, i) => ({
          path:
            file.name && file.name !== 'image.png'
              ? file.name
              : `pasted-${stamp}-${i + 1}.${file.type.split('/')[1] ?? 'png'}`,
          file,
        })),
      );
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    void filesFromDataTransfer(e.dataTransfer).then(intake);
  };

  return (
    <div
      className={`drop-zone${over ? ' drop-over' : ''}`}
      role="region"
      aria-label="Drop images or folders here"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <svg className="drop-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
      </svg>
      <p className="drop-title">Drop images or folders here</p>
      <p className="muted">
        PNG, JPEG, WebP, GIF, BMP or AVIF · add a <code>name,prompt</code> CSV to set prompts · or paste an
        image
      </p>
      <div className="drop-actions">
        <button type="button" onClick={() => filesRef.current?.click()}>
          Choose images…
        </button>
        <button type="button" className="secondary" onClick={() => folderRef.current?.click()}>
          Choose a folder…
        </button>
      </div>
      <input
        ref={filesRef}
        type="file"
        multiple
        accept="image/*,.csv,text/csv"
        className="visually-hidden"
        aria-label="Choose images"
        onChange={(e) => {
          void intake(filesFromList(e.target.files));
          e.target.value = '';
        }}
      />
      <input
        ref={folderRef}
        type="file"
        className="visually-hidden"
        aria-label="Choose a folder of images"
        // @ts-expect-error webkitdirectory is not in React's input attributes, but every current browser supports it
        webkitdirectory=""
        multiple
        onChange={(e) => {
          void intake(filesFromList(e.target.files, true));
          e.target.value = '';
        }}
      />
    </div>
  );
}
