// A WebDataset sample as a scoring job: its image member, its prompt (from .txt,
// else `prompt` or `caption` in its .json, as img2dataset writes them) and its
// url. A sample that cannot be scored becomes a job carrying its error.
import { AgqgError } from '../../model/errors.ts';
import { READABLE_EXTENSIONS } from '../images.ts';
import type { ScoreJob } from '../score-pipeline.ts';
import type { ShardSample } from './tar-samples.ts';

/** The image member, first of these present (WebDataset's "jpg;png" habit), then any other image. */
const FIRST_IMAGE_EXTS = ['jpg', 'jpeg', 'png', 'webp'];
export const SAMPLE_IMAGE_EXTS: readonly string[] = [
  ...FIRST_IMAGE_EXTS,
  ...[...READABLE_EXTENSIONS].map((e) => e.slice(1)).filter((e) => !FIRST_IMAGE_EXTS.includes(e)),
];

export interface SampleJob extends ScoreJob {
  key: string | null;
  url: string | null;
}

const utf8 = new TextDecoder('utf-8');

function metadata(sample: ShardSample, label: string): Record<string, unknown> | null {
  const bytes = sample.members.get('json');
  if (!bytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new AgqgError('decode_failed', `${label}.json is not valid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AgqgError(
      'decode_failed',
      `${label}.json holds ${Array.isArray(value) ? 'an array' : String(value)}, not an object`,
    );
  return value as Record<string, unknown>;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** `shardName`: the shard's file name, which prefixes each job's `file` (as in `00001.tar/key.jpg`). */
export function sampleJob(sample: ShardSample, shardName: string): SampleJob {
  const label = `${shardName}/${sample.key}`;
  const fail = (error: unknown, ext = SAMPLE_IMAGE_EXTS.find((e) => sample.refused.has(e))): SampleJob => ({
    key: sample.key,
    url: null,
    file: ext ? `${label}.${ext}` : label,
    prompt: null,
    error,
  });
  if (sample.duplicate)
    return fail(
      new AgqgError(
        'decode_failed',
        `${shardName}: ${sample.duplicate} appears twice in the sample ${sample.key}`,
      ),
    );
  let meta: Record<string, unknown> | null;
  try {
    meta = metadata(sample, label);
  } catch (e) {
    return fail(e);
  }
  const url = text(meta?.url);
  const txt = sample.members.get('txt');
  const prompt = (txt ? text(utf8.decode(txt)) : null) ?? text(meta?.prompt) ?? text(meta?.caption);
  const ext = SAMPLE_IMAGE_EXTS.find((e) => sample.members.has(e) || sample.refused.has(e));
  if (!ext) {
    const has = [...sample.members.keys(), ...sample.refused.keys()].join(', ');
    return {
      ...fail(
        new AgqgError(
          'unsupported_format',
          `${label} has no image member (${SAMPLE_IMAGE_EXTS.join(', ')}); it has ${has}`,
        ),
      ),
      url,
      prompt,
    };
  }
  const refused = sample.refused.get(ext);
  if (refused) return { ...fail(refused, ext), url, prompt };
  return { key: sample.key, url, file: `${label}.${ext}`, prompt, bytes: sample.members.get(ext) };
}
