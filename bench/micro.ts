// Micro benchmark: the CLIP tokenizer (load, encode throughput over every
// AGIQA-3K prompt). The full-size CLIP ViT-B/32 graphs are timed by
// node-vs-ort.ts and levers-node.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipTokenizer, tokenizerOptionsFromConfig } from '../src/model/text/tokenizer.ts';
import { agiqaRows } from './images.ts';
import { AGIQA, haveShared, sharedPath, TINY_CLIP } from './shared.ts';
import { summarize, timedRow, timeRuns, valueRow, type Row } from './stats.ts';

const LOADS = 5;
const ENCODE_PASSES = 3;

export async function benchTokenizer(): Promise<Row[]> {
  const section = 'micro: CLIP tokenizer (49,408-token BPE)';
  if (!haveShared(section, [TINY_CLIP, AGIQA])) return [];
  const dir = sharedPath(TINY_CLIP);
  const json = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const vocab = readFileSync(join(dir, 'vocab.json'), 'utf8');
  const merges = readFileSync(join(dir, 'merges.txt'), 'utf8');
  const options = tokenizerOptionsFromConfig(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  const fromJson = await timeRuns(LOADS, 1, () => ClipTokenizer.fromTokenizerJson(json, options));
  const fromFiles = await timeRuns(LOADS, 1, () => ClipTokenizer.fromVocabMerges(vocab, merges, options));
  const prompts = agiqaRows().map((r) => r.prompt);
  // A fresh tokenizer: its first pass fills whatever caches it has, later passes show the warm rate.
  const tok = ClipTokenizer.fromTokenizerJson(json, options);
  const passes: number[] = [];
  let tokens = 0;
  for (let p = 0; p < ENCODE_PASSES; p++) {
    const t0 = performance.now();
    tokens = 0;
    for (const text of prompts) tokens += tok.encode(text).length;
    passes.push(performance.now() - t0);
  }
  const warm = summarize(passes.slice(1)).median;
  return [
    timedRow(section, 'load from tokenizer.json', fromJson),
    timedRow(section, 'load from vocab.json + merges.txt', fromFiles),
    valueRow(
      section,
      `encode, first pass (${prompts.length} prompts)`,
      (prompts.length / passes[0]) * 1000,
      'prompts/s',
    ),
    valueRow(
      section,
      'encode, warm passes',
      (prompts.length / warm) * 1000,
      'prompts/s',
      `${((warm / prompts.length) * 1000).toFixed(1)} µs/prompt, ${Math.round(tokens / prompts.length)} tokens/prompt`,
    ),
  ];
}
