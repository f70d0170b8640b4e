// agqg tokenize: the pack's tokenizer on the command line, ids as the text encoder gets them.
import { parseCommandArgs, requireOption, UsageError, EXIT_OK } from '../args.ts';
import type { CliIO } from '../io.ts';
import { openPackFolder } from '../load-pack.ts';
import { AgqgError } from '../../model/errors.ts';
import { loadTokenizer } from '../../model/scoring/scorer.ts';

export const help = `agqg tokenize --pack DIR [--json] TEXT...

Tokenizes each TEXT with the pack's CLIP tokenizer and prints the input ids and
attention mask the text encoder receives (start/end tokens, padded or truncated
to the encoder's context length).

Options:
  --pack DIR   pack folder (manifest.json, or a Hugging Face CLIP export)
  --json       JSON array of {text, inputIds, attentionMask, length, truncated}
  -h, --help   this help
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('tokenize', argv, {
    pack: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const packDir = requireOption('tokenize', values.pack, '--pack');
  if (positionals.length === 0) throw new UsageError('give at least one TEXT to tokenize', 'tokenize');
  const pack = await openPackFolder(packDir);
  const spec = pack.manifest.text;
  if (!spec) {
    throw new AgqgError(
      'no_text_encoder',
      `pack ${pack.manifest.id} has no text encoder, so it has no tokenizer`,
    );
  }
  const tokenizer = await loadTokenizer(pack);
  const items = positionals.map((text) => ({ text, ...tokenizer.encode(text, spec.contextLength) }));
  if (values.json) {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const it of items) {
    const ids = it.inputIds.slice(0, it.length);
    io.out(
      `${JSON.stringify(it.text)}\n  ${it.length} tokens${it.truncated ? ' (truncated)' : ''}, padded to ${it.inputIds.length}\n  ids: ${ids.join(' ')}\n`,
    );
  }
  return EXIT_OK;
}
