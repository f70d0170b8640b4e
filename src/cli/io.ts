// Where CLI commands write: the process streams, or buffers in tests (main() runs in-process).

export interface CliIO {
  /** Results (what a pipe or a file should receive). */
  out(text: string): void;
  /** Progress, warnings and errors. */
  err(text: string): void;
  /** True when stderr is an interactive terminal: progress then redraws one line. */
  readonly errIsTTY: boolean;
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get errIsTTY() {
    return process.stderr.isTTY === true;
  },
};

/** A CliIO that keeps everything written, for tests and for callers that post-process output. */
export function bufferIO(): CliIO & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    errIsTTY: false,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
