// agqg preprocess: the exact tensor the vision encoder would get, as a raw file,
// to compare with a reference pipeline (numpy.fromfile(path, '<f4')).
import { writeFile } from 'node:fs/promises';
import { parseCommandArgs, requireOption, UsageError, EXIT_OK } from '../args.ts';
import { readImage } from '../images.ts';
import type { CliIO } from '../io.ts';
import { openPackFolder } from '../load-pack.ts';
import { preprocess } from '../../model/image/preprocess.ts';

export const help = `agqg preprocess --pack DIR IMAGE --out FILE.f32 [--input NAME]

Decodes IMAGE and preprocesses it as the pack's vision encoder expects (resize,
centre crop, rescale, normalise per the pack's preprocessor config), then writes
the tensor as raw little-endian float32 in NCHW order [1,3,H,W].

Options:
  --pack DIR     pack folder
  --out FILE     where to write the float32 data
  --input NAME   which vision input (default: the first one in the manifest)
  -h, --help     this help
`;

/** Float32 values as little-endian bytes whatever the host's byte order. */
export function float32LE(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return bytes;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('preprocess', argv, {
    pack: { type: 'string' },
    out: { type: 'string' },
    input: { type: 'string' },
  });
  const packDir = requireOption('preprocess', values.pack, '--pack');
  const outFile = requireOption('preprocess', values.out, '--out');
  if (positionals.length !== 1)
    throw new UsageError(`give exactly one IMAGE (got ${positionals.length})`, 'preprocess');
  const pack = await openPackFolder(packDir);
  const inputs = pack.manifest.vision.inputs;
  const input = values.input === undefined ? inputs[0] : inputs.find((i) => i.name === values.input);
  if (!input) {
    throw new UsageError(
      `pack ${pack.manifest.id} has no vision input "${values.input}" (it has ${inputs.map((i) => i.name).join(', ')})`,
      'preprocess',
    );
  }
  const { img } = await readImage(positionals[0]);
  const { data, dims } = preprocess(img, input.preprocess);
  await writeFile(outFile, float32LE(data));
  io.err(`wrote ${outFile}: ${input.name} float32 [${dims.join(',')}] from ${img.width}x${img.height}\n`);
  return EXIT_OK;
}
