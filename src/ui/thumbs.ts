// Thumbnails are shown through blob: URLs, made only for what is drawn (a card
// on the page, a compared image) and released with it. URL.createObjectURL is a
// synchronous round trip to the browser process: eight of them in the message
// that brings a batch of results took 30+ ms of that task on a busy machine, so
// they are made a few milliseconds' worth per animation frame instead.
import { useEffect, useState } from 'react';
import { createPacer } from './pace';
import { afterFrame } from './paced';

const URL_BUDGET_MS = 4;
const pacer = createPacer({ budgetMs: URL_BUDGET_MS, frame: afterFrame });

interface Held {
  url: string | null;
  refs: number;
  waiters: Set<(url: string) => void>;
  cancel: (() => void) | null;
}

const held = new Map<Blob, Held>();

/** Takes a reference to `blob`'s URL; `got` is called once it exists. Returns the release. */
function acquire(blob: Blob, got: (url: string) => void): () => void {
  let h = held.get(blob);
  if (!h) {
    h = { url: null, refs: 0, waiters: new Set(), cancel: null };
    held.set(blob, h);
  }
  const entry = h;
  entry.refs++;
  if (entry.url) got(entry.url);
  else {
    entry.waiters.add(got);
    entry.cancel ??= pacer.schedule(() => {
      entry.cancel = null;
      entry.url = URL.createObjectURL(blob);
      for (const w of entry.waiters) w(entry.url);
      entry.waiters.clear();
    });
  }
  return () => {
    entry.refs--;
    entry.waiters.delete(got);
    // Released after the commit: a card that moves (sort, filter) is unmounted and mounted again in
    // one commit, and keeps its URL.
    queueMicrotask(() => {
      if (entry.refs > 0 || held.get(blob) !== entry) return;
      held.delete(blob);
      entry.cancel?.();
      if (entry.url) URL.revokeObjectURL(entry.url);
    });
  };
}

/** The blob: URL of a thumbnail while the component is mounted (null until made, a frame or so later). */
export function useObjectUrl(blob: Blob | null): string | null {
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
