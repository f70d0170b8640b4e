// One error type for every bad input the product can meet, so the CLI, the
// worker and the page all report the same specific code and message.

export const ERROR_CODES = [
  'empty_file',
  'unsupported_format',
  'decode_failed',
  'image_too_large',
  'prompt_empty',
  'prompt_too_long',
  'pack_invalid',
  'pack_file_missing',
  'pack_file_tampered',
  'no_head',
  'no_text_encoder',
  'backend_failed',
  'cancelled',
  'invalid_argument',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes about one input (that input failed, the rest go on); every other code means nothing could run. */
export const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'empty_file',
  'unsupported_format',
  'decode_failed',
  'image_too_large',
  'prompt_empty',
  'prompt_too_long',
]);

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
