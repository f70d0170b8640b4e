// The CLI's command registry. Each command is a module with `help` and
// `run(argv, io)`, imported only when invoked (so `agqg tokenize` does not
// load onnxruntime). To add a command, add an entry here.
import type { CliIO } from './io.ts';

export interface CommandModule {
  /** Full usage text printed for --help. */
  help: string;
  /** Returns the exit code: 0 ok, 1 some inputs failed, 2 usage or pack error. */
  run(argv: string[], io: CliIO): Promise<number>;
}

export interface CommandEntry {
  /** One line for `agqg --help`. */
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, CommandEntry> = {
  score: { summary: 'grade images for quality and prompt alignment', load: () => import('./cmd/score.ts') },
  summary: {
    summary: 'count grades, scores and failures over an agqg score --out folder',
    load: () => import('./cmd/summary.ts'),
  },
  eval: {
    summary: "measure a pack's agreement with human scores on a labelled folder",
    load: () => import('./cmd/eval.ts'),
  },
  embed: { summary: 'print image and text embeddings', load: () => import('./cmd/embed.ts') },
  tokenize: { summary: "print a pack's token ids for texts", load: () => import('./cmd/tokenize.ts') },
  preprocess: {
    summary: 'write the preprocessed image tensor as raw float32',
    load: () => import('./cmd/preprocess.ts'),
  },
  train: {
    summary: 'fit an AGQG head on a labelled folder and write a pack',
    load: () => import('./train/command.ts'),
  },
  fetch: {
    summary: 'download a CLIP ONNX export from the Hugging Face hub as a verified pack',
    load: () => import('./fetch/command.ts'),
  },
  quantize: {
    summary: 'write the int8 (q8) variant of a float32 ONNX encoder',
    load: () => import('./cmd/quantize.ts'),
  },
  'build-pack': {
    summary: 'build the default offline pack into public/models',
    load: () => import('./cmd/build-pack.ts'),
  },
};
