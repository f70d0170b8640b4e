// A task boundary that browsers, workers and Node all have: a MessageChannel message
// runs after what is queued now (unlike a microtask) and, unlike setTimeout(0), is
// never clamped to 4 ms when chained. The pure core has no lib types for it.
interface PortLike {
  onmessage: (() => void) | null;
  postMessage(message: null): void;
  close(): void;
}
type MessageChannelLike = new () => { port1: PortLike; port2: PortLike };

/** Resolves in a task of its own (after what is queued now, input included). */
export function nextTask(): Promise<void> {
  const Channel = (globalThis as unknown as { MessageChannel: MessageChannelLike }).MessageChannel;
  return new Promise((resolve) => {
    const ch = new Channel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
