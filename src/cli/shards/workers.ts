// Which shards this process takes: shard i (its position in the expanded list)
// belongs to worker i mod N. The index comes from --shard-index or from the
// scheduler that started the process; the count from --shard-count or Slurm.
import { UsageError } from '../args.ts';

export interface WorkerSlot {
  index: number;
  count: number;
  /** Where the index came from, for the log (e.g. "SLURM_ARRAY_TASK_ID=13 - SLURM_ARRAY_TASK_MIN=10"). */
  from: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function wholeNumber(value: string, what: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min)
    throw new UsageError(`${what} must be a whole number >= ${min} (got "${value}")`, 'score');
  return n;
}

/** The scheduler's own index, 0-based, or null when no scheduler set one. */
function schedulerIndex(env: Env): { index: number; from: string } | null {
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined)
    return {
      index: wholeNumber(k8s, 'JOB_COMPLETION_INDEX (Kubernetes Indexed Job)', 0),
      from: `JOB_COMPLETION_INDEX=${k8s}`,
    };
  const task = env.SLURM_ARRAY_TASK_ID;
  if (task !== undefined) {
    const id = wholeNumber(task, 'SLURM_ARRAY_TASK_ID', 0);
    const min = wholeNumber(env.SLURM_ARRAY_TASK_MIN ?? '0', 'SLURM_ARRAY_TASK_MIN', 0);
    const step = wholeNumber(env.SLURM_ARRAY_TASK_STEP ?? '1', 'SLURM_ARRAY_TASK_STEP', 1);
    if (id < min || (id - min) % step !== 0)
      throw new UsageError(
        `SLURM_ARRAY_TASK_ID=${id} is not on the array's range (min ${min}, step ${step}); submit a range such as --array=0-7`,
        'score',
      );
    return {
      index: (id - min) / step,
      from: `SLURM_ARRAY_TASK_ID=${id}${min ? ` - SLURM_ARRAY_TASK_MIN=${min}` : ''}${step > 1 ? ` / step ${step}` : ''}`,
    };
  }
  const aws = env.AWS_BATCH_JOB_ARRAY_INDEX;
  if (aws !== undefined)
    return {
      index: wholeNumber(aws, 'AWS_BATCH_JOB_ARRAY_INDEX', 0),
      from: `AWS_BATCH_JOB_ARRAY_INDEX=${aws}`,
    };
  return null;
}

/**
 * This process's worker slot from the flags and the environment. No flag and no scheduler:
 * one worker takes every shard. Anything missing or inconsistent is a UsageError that says
 * what to give.
 */
export function resolveWorker(flags: { index?: string; count?: string }, env: Env = process.env): WorkerSlot {
  const flagCount = flags.count === undefined ? undefined : wholeNumber(flags.count, '--shard-count', 1);
  const slurmCount = env.SLURM_ARRAY_TASK_COUNT;
  let index: number;
  let from: string;
  if (flags.index !== undefined) {
    index = wholeNumber(flags.index, '--shard-index', 0);
    from = '--shard-index';
  } else {
    const s = schedulerIndex(env);
    if (!s) {
      if (flagCount !== undefined && flagCount > 1)
        throw new UsageError(
          `--shard-count ${flagCount} needs this worker's index: give --shard-index, or run under a scheduler that sets JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX`,
          'score',
        );
      return { index: 0, count: 1, from: 'one worker' };
    }
    ({ index, from } = s);
  }
  let count: number;
  if (flagCount !== undefined) count = flagCount;
  else if (slurmCount !== undefined && from.startsWith('SLURM'))
    count = wholeNumber(slurmCount, 'SLURM_ARRAY_TASK_COUNT', 1);
  else
    throw new UsageError(
      `the worker index is known (${from}) but not the number of workers: give --shard-count N (the Job's completions, the array's size)`,
      'score',
    );
  if (index >= count)
    throw new UsageError(`worker index ${index} (${from}) is not below the worker count ${count}`, 'score');
  return { index, count, from };
}

/** The shards of worker `slot`: positions i with i mod count = index. */
export function shardsOf<T>(all: readonly T[], slot: WorkerSlot): T[] {
  return all.filter((_, i) => i % slot.count === slot.index);
}
