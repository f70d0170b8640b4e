// Thumbnails are shown through data: URLs, made only for what is drawn (a card on
// the page, a compared image) and dropped with it. Not blob: URLs: URL.createObjectURL
// is a synchronous round trip to the browser process, and on a busy 2-core machine
// one call waited 67 ms for it (0.7 ms of CPU): a main-thread long task in the
// middle of a batch. FileReader reads the blob asynchronously, so the main thread
// never waits; the worker's thumbnails are small JPEGs (THUMB_EDGE), so a URL is
// some tens of kB of text.
import { useEffect, useState } from 'react';

interface Held {
  url: string | null;
  refs: number;
  waiters: Set<(url: string) => void>;
  reader: FileReader | null;
}

const held = new Map<Blob, Held>();

function read(blob: Blob, entry: Held): void {
  const reader = new FileReader();
  entry.reader = reader;
  reader.onload = () => {
    entry.reader = null;
    if (held.get(blob) !== entry || typeof reader.result !== 'string') return;
    const url = reader.result;
    entry.url = url;
    for (const w of entry.waiters) w(url);
    entry.waiters.clear();
  };
  // An unreadable thumbnail leaves its placeholder; the grade does not depend on it.
  reader.onerror = () => {
    entry.reader = null;
  };
  reader.readAsDataURL(blob);
}

/** Takes a reference to `blob`'s URL; `got` is called once it exists. Returns the release. */
function acquire(blob: Blob, got: (url: string) => void): () => void {
  let h = held.get(blob);
  if (!h) {
    h = { url: null, refs: 0, waiters: new Set(), reader: null };
    held.set(blob, h);
  }
  const entry = h;
  entry.refs++;
  if (entry.url) got(entry.url);
  else {
    entry.waiters.add(got);
    if (!entry.reader) read(blob, entry);
  }
  return () => {
    entry.refs--;
    entry.waiters.delete(got);
    // Dropped after the commit: a card that moves (sort, filter) is unmounted and mounted again in
    // one commit, and keeps its URL.
    queueMicrotask(() => {
      if (entry.refs > 0 || held.get(blob) !== entry) return;
      held.delete(blob);
      entry.reader?.abort();
    });
  };
}

/** The data: URL of a thumbnail while the component is mounted (null until read, a task or so later). */
export function useThumbUrl(blob: Blob | null): string | null {
  const [shown, setShown] = useState<{ blob: Blob; url: string } | null>(() => {
    const url = blob ? held.get(blob)?.url : null;
    return blob && url ? { blob, url } : null;
  });
  useEffect(() => {
    if (!blob) return;
    return acquire(blob, (url) => setShown({ blob, url }));
  }, [blob]);
  return shown && shown.blob === blob ? shown.url : null;
}
