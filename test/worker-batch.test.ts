// The worker's batch plumbing that runs without a browser: chunks bounded by
// declared pixels, and queue tickets that let work prepared outside the queue
// (decoding) be cancelled as if it had been queued.
import { describe, expect, it } from 'vitest';
import { blackPng } from '../e2e/files.ts';
import { planChunks } from '../src/worker/chunks.ts';
import { SerialQueue } from '../src/worker/queue.ts';

function req(name: string, png: Buffer) {
  const bytes = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer;
  return { id: name, name, bytes, prompt: null };
}

describe('planChunks', () => {
  it('cuts consecutive chunks at the pixel budget read from the headers, in order', () => {
    // 100x100 = 10,000 pixels each; a budget of 25,000 holds two.
    const reqs = ['a', 'b', 'c', 'd', 'e'].map((n) => req(n, blackPng(100, 100)));
    expect(planChunks(reqs, 25_000).map((c) => c.map((r) => r.name))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
  });

  it('gives an image over the budget a chunk of its own, and counts unreadable files as nothing', () => {
    const big = req('big', blackPng(300, 300));
    const junk = {
      id: 'junk',
      name: 'junk.jpg',
      bytes: new TextEncoder().encode('not an image').buffer as ArrayBuffer,
      prompt: null,
    };
    const small = req('small', blackPng(10, 10));
    expect(planChunks([small, big, junk, small], 50_000).map((c) => c.map((r) => r.name))).toEqual([
      ['small'],
      ['big', 'junk.jpg'],
      ['small'],
    ]);
    expect(planChunks([], 50_000)).toEqual([]);
  });
});

describe('SerialQueue tickets', () => {
  it('rejects work enqueued with a ticket taken before a cancel, and runs work with a fresh one', async () => {
    const q = new SerialQueue();
    const ticket = q.ticket();
    expect(q.isCurrent(ticket)).toBe(true);
    q.cancel();
    expect(q.isCurrent(ticket)).toBe(false);
    let ran = false;
    await expect(q.enqueue(async () => (ran = true), ticket)).rejects.toMatchObject({ code: 'cancelled' });
    expect(ran).toBe(false);
    expect(await q.enqueue(async () => 'ran', q.ticket())).toBe('ran');
  });
});
