// agqg quantize: the q8 variant of a float32 ONNX encoder, as Hugging Face
// publishes next to its exports (onnx/*_quantized.onnx).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { EXIT_OK, parseCommandArgs, UsageError } from '../args.ts';
import type { CliIO } from '../io.ts';
import { AgqgError } from '../../model/errors.ts';
import { DEFAULT_MIN_WEIGHTS, quantizeDynamicInt8 } from '../../model/onnx/quantize-int8.ts';

export const help = `agqg quantize IN.onnx OUT.onnx [--min-weights N]

Writes the dynamic int8 (q8) variant of a float32 ONNX model: every MatMul whose
weights are a constant of at least N values (default ${DEFAULT_MIN_WEIGHTS}) runs on int8
weights quantized per output column, with its input quantized on the fly
(DynamicQuantizeLinear + MatMulInteger, the form onnxruntime fuses into one int8
kernel). About a quarter of the size; on WASM and CPU usually faster.

In a Hugging Face CLIP folder, name the output onnx/vision_model_quantized.onnx
(or text_model_quantized.onnx) and the pack offers a q8 variant.

Options:
  --min-weights N  smallest weight matrix to quantize (default ${DEFAULT_MIN_WEIGHTS})
  -h, --help       this help
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('quantize', argv, {
    'min-weights': { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError('give IN.onnx and OUT.onnx', 'quantize');
  const [input, output] = positionals;
  const minWeights =
    values['min-weights'] === undefined ? DEFAULT_MIN_WEIGHTS : Number(values['min-weights']);
  if (!Number.isInteger(minWeights) || minWeights < 1)
    throw new UsageError(
      `--min-weights must be a positive integer, got ${values['min-weights']}`,
      'quantize',
    );
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(input));
  } catch (err) {
    throw new AgqgError('invalid_argument', `cannot read ${input}: ${(err as Error).message}`);
  }
  const r = quantizeDynamicInt8(bytes, { minWeights });
  if (r.quantized === 0)
    throw new AgqgError(
      'invalid_argument',
      `${input} has no MatMul with constant float32 weights of ${minWeights} or more values: nothing to quantize`,
    );
  // Written whole, then renamed: a half-written model is never left under the output's name.
  await writeFile(`${output}.partial`, r.bytes);
  await rename(`${output}.partial`, output);
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  io.out(
    `${output}: ${r.quantized} MatMul quantized to int8 (${r.kept} kept float: activations or small), ` +
      `weights ${mb(r.floatBytesBefore)} -> ${mb(r.int8Bytes)} MiB, model ${mb(bytes.byteLength)} -> ${mb(r.bytes.byteLength)} MiB\n`,
  );
  return EXIT_OK;
}
