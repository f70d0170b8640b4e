// One error type for every bad input the product can meet, so the CLI, the
// worker and the page all report the same specific code and message. This is
// the one list of codes: docs/cli.md's table is checked against it
// (test/hostile.test.ts).

/** Every code, what it means, and whether it is about one input (the rest of the batch goes on). */
export const ERROR_CODE_INFO = {
  not_found: { input: true, meaning: 'the file does not exist (or is a symbolic link to nothing)' },
  not_a_file: {
    input: true,
    meaning: 'the path is a folder, a named pipe (FIFO), a socket or a device, not a regular file',
  },
  unreadable: {
    input: true,
    meaning: 'the file is there but cannot be opened: permission denied, a symbolic link loop, an I/O error',
  },
  empty_file: { input: true, meaning: 'the file has 0 bytes' },
  unsupported_format: {
    input: true,
    meaning: 'not an image format the grader reads (text, SVG, TIFF, HEIC, ...), whatever its name says',
  },
  decode_failed: { input: true, meaning: 'an image format it reads, but the data is truncated or corrupt' },
  image_too_large: {
    input: true,
    meaning: 'over the pixel or byte limit of limits.ts (checked before decoding)',
  },
  prompt_empty: { input: true, meaning: 'the prompt is empty or only spaces' },
  prompt_too_long: { input: true, meaning: 'the prompt is over the character limit of limits.ts' },
  pack_invalid: { input: false, meaning: 'the pack folder or its manifest.json is not a usable pack' },
  pack_file_missing: { input: false, meaning: 'a file the manifest lists is not in the pack' },
  pack_file_tampered: { input: false, meaning: "a pack file's size or SHA-256 is not the manifest's" },
  no_head: { input: false, meaning: 'the pack has no quality head and no alignment head' },
  no_text_encoder: { input: false, meaning: 'alignment or text embedding asked of a pack without one' },
  backend_failed: { input: false, meaning: 'the ONNX runtime failed' },
  cancelled: { input: false, meaning: 'the run was stopped' },
  invalid_argument: { input: false, meaning: 'an argument out of range' },
  internal: { input: false, meaning: 'a bug: please report it with the message' },
} as const satisfies Record<string, { input: boolean; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODE_INFO;

export const ERROR_CODES = Object.keys(ERROR_CODE_INFO) as [ErrorCode, ...ErrorCode[]];

/** Codes about one input: that input failed, the others were processed (CLI exit code 1). */
export const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set(
  ERROR_CODES.filter((c) => ERROR_CODE_INFO[c].input),
);

export class AgqgError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgqgError';
    this.code = code;
  }
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** Turns anything thrown into the serialisable {code, message} that results carry. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof AgqgError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}
