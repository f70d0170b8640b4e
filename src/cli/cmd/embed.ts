// agqg embed: encoder outputs for images and texts, to check a pack against a
// reference implementation or to feed other tools.
import {
  parseCommandArgs,
  requireOption,
  parseVariant,
  UsageError,
  EXIT_OK,
  EXIT_SOME_FAILED,
} from '../args.ts';
import { readImage } from '../images.ts';
import type { CliIO } from '../io.ts';
import { loadScorer } from '../load-pack.ts';
import { toErrorInfo, type ErrorInfo } from '../../model/errors.ts';
import { norm } from '../../model/grading/similarity.ts';

export const help = `agqg embed --pack DIR [--image IMG]... [--text T]... [--json] [--variant DTYPE]

Runs the pack's image encoder on each --image and its text encoder on each
--text, and prints the embeddings (as the encoders output them, not normalised).

Options:
  --pack DIR        pack folder
  --image IMG       an image file (repeatable)
  --text T          a text (repeatable; needs a pack with a text encoder)
  --json            {pack, backend, images: [{file, embedding | error}], texts: [{text, embedding, truncated}]}
  --variant DTYPE   encoder weights to use (fp32, fp16, q8, ...; default: the most exact present)
  -h, --help        this help

Exit code 1 if any image could not be read.
`;

interface ImageEntry {
  file: string;
  embedding: number[] | null;
  error: ErrorInfo | null;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('embed', argv, {
    pack: { type: 'string' },
    image: { type: 'string', multiple: true, default: [] },
    text: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
    variant: { type: 'string' },
  });
  const packDir = requireOption('embed', values.pack, '--pack');
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}": use --image FILE or --text TEXT`, 'embed');
  }
  const images = values.image ?? [];
  const texts = values.text ?? [];
  if (images.length === 0 && texts.length === 0)
    throw new UsageError('give at least one --image or --text', 'embed');
  const scorer = await loadScorer(packDir, io, { variant: parseVariant('embed', values.variant) });
  try {
    if (texts.length > 0 && !scorer.hasText) {
      throw new UsageError(
        `pack ${scorer.manifest.id} has no text encoder, so --text cannot be embedded`,
        'embed',
      );
    }
    const imageEntries: ImageEntry[] = [];
    for (const file of images) {
      try {
        const { img } = await readImage(file);
        const { features } = await scorer.embedImage(img);
        imageEntries.push({ file, embedding: Array.from(features), error: null });
      } catch (err) {
        imageEntries.push({ file, embedding: null, error: toErrorInfo(err) });
      }
    }
    const textEntries = texts.length
      ? (await scorer.embedTextsDetailed(texts)).map((e, i) => ({
          text: texts[i],
          embedding: Array.from(e.features),
          truncated: e.truncated,
        }))
      : [];
    if (values.json) {
      const doc = {
        pack: scorer.manifest.id,
        backend: scorer.backend,
        images: imageEntries,
        texts: textEntries,
      };
      io.out(`${JSON.stringify(doc)}\n`);
    } else {
      const head = (v: number[]): string =>
        v
          .slice(0, 4)
          .map((x) => x.toFixed(4))
          .join(', ');
      for (const e of imageEntries) {
        if (e.embedding)
          io.out(
            `image ${e.file}: [${e.embedding.length}] |v|=${norm(e.embedding).toFixed(4)} [${head(e.embedding)}, ...]\n`,
          );
        else io.out(`image ${e.file}: error [${e.error?.code}] ${e.error?.message}\n`);
      }
      for (const e of textEntries) {
        io.out(
          `text ${JSON.stringify(e.text)}: [${e.embedding.length}] |v|=${norm(e.embedding).toFixed(4)} [${head(e.embedding)}, ...]${e.truncated ? ' (truncated)' : ''}\n`,
        );
      }
    }
    for (const e of imageEntries) if (e.error) io.err(`${e.file}: [${e.error.code}] ${e.error.message}\n`);
    return imageEntries.some((e) => e.error) ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
    await scorer.release();
  }
}
