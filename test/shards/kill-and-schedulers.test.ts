// Long runs under real process control: kill -9 mid-shard then a rerun leaves
// every key exactly once; the scheduler variables of Kubernetes, Slurm and AWS
// Batch split the shards; GNU parallel runs two workers at once; and, where a
// Slurm controller answers, a real `sbatch --array` job does the same.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { describeShared, describeWhen, ROOT } from '../shared.ts';
import { TINY } from '../tiny-pack.ts';
import { agiqaItems, AGIQA_NEEDS, readJsonl, run, writeFiles, writeShards, type Item } from './fixture.ts';
import type { ScoreRecord } from '../../src/cli/shards/records.ts';

const AGQG = join(ROOT, 'bin/agqg.js');
const SHARDS = 4;
const PER_SHARD = 30;

const outputsOf = (dir: string): ScoreRecord[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .flatMap((n) => readJsonl(join(dir, n)));

function expectEachOnce(records: readonly ScoreRecord[], items: readonly Item[]): void {
  expect(records.map((r) => r.key).sort()).toEqual(items.map((it) => it.key).sort());
  for (const r of records) expect(r.error, r.key ?? '').toBeNull();
}

/** Starts agqg, waits until `ready()` holds (polled), kills it with SIGKILL. */
async function killWhen(args: string[], ready: () => boolean): Promise<void> {
  const child = spawn(process.execPath, [AGQG, ...args], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | number | null>((res) =>
    child.on('exit', (c, s) => res(s ?? c)),
  );
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !ready()) await new Promise((r) => setTimeout(r, 5));
  expect(done, 'agqg finished before it could be killed mid-run').toBe(false);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describeShared('agqg score at scale: kill -9, schedulers', AGIQA_NEEDS, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-scale-'));
  const items = agiqaItems(SHARDS * PER_SHARD, 100);
  const spec = join(tmp, 'shards/{00000..00003}.tar');
  let reference: Map<string, ScoreRecord>;
  beforeAll(async () => {
    await writeShards(join(tmp, 'shards'), items, PER_SHARD);
    const one = await run('score', '--pack', TINY(), '--shards', spec, '--out', join(tmp, 'one'), '--quiet');
    expect(one.code, one.err).toBe(0);
    reference = new Map(outputsOf(join(tmp, 'one')).map((r) => [r.key ?? '', r]));
  });

  /** Merged outputs equal the one-process run's, record by record. */
  const expectSameAsOneProcess = (dir: string): void => {
    const got = outputsOf(dir);
    expectEachOnce(got, items);
    for (const r of got) expect(r.quality).toEqual(reference.get(r.key ?? '')?.quality);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  };

  it('kill -9 mid-shard, then a rerun: every key exactly once, the unfinished shard redone', async () => {
    const out = join(tmp, 'killed');
    const args = ['score', '--pack', TINY(), '--shards', spec, '--out', out, '--batch', '2', '--quiet'];
    await killWhen(args, () => {
      const names = existsSync(out) ? readdirSync(out) : [];
      return names.some((n) => n.endsWith('.jsonl')) && names.some((n) => n.endsWith('.tmp'));
    });
    const left = readdirSync(out);
    const finished = left.filter((n) => n.endsWith('.jsonl'));
    expect(finished.length).toBeLessThan(SHARDS);
    // What has a final name is whole.
    for (const n of finished) expect(readJsonl(join(out, n))).toHaveLength(PER_SHARD);
    const rerun = await promisify(execFile)(process.execPath, [AGQG, ...args.slice(0, -1)], { cwd: ROOT });
    expect(rerun.stderr).toContain(`skipped ${finished.length} of ${SHARDS} shards`);
    expect(rerun.stderr).toContain('removed 1 unfinished temporary output(s) of stopped runs');
    expectSameAsOneProcess(out);
  });

  it('kill -9 while files stream into results.jsonl, then a rerun: every file exactly once', async () => {
    const { files } = writeFiles(join(tmp, 'files'), items);
    const out = join(tmp, 'killed-files');
    const args = ['score', '--pack', TINY(), ...files, '--out', out, '--batch', '2', '--quiet'];
    const results = join(out, 'results.jsonl');
    await killWhen(args, () => existsSync(results) && readFileSync(results, 'utf8').split('\n').length > 10);
    await promisify(execFile)(process.execPath, [AGQG, ...args], { cwd: ROOT });
    const recs = readJsonl(results);
    expect(recs.map((r) => r.file).sort()).toEqual([...files].sort());
  });

  it("splits the shards by each scheduler's variables: every shard to exactly one worker", async () => {
    const schedulers: [string, (i: number) => Record<string, string>, string[]][] = [
      ['k8s', (i) => ({ JOB_COMPLETION_INDEX: String(i) }), ['--shard-count', '2']],
      [
        'slurm',
        (i) => ({
          SLURM_ARRAY_TASK_ID: String(10 + i),
          SLURM_ARRAY_TASK_MIN: '10',
          SLURM_ARRAY_TASK_COUNT: '2',
        }),
        [],
      ],
      ['aws', (i) => ({ AWS_BATCH_JOB_ARRAY_INDEX: String(i) }), ['--shard-count', '2']],
    ];
    for (const [name, env, extra] of schedulers) {
      const out = join(tmp, `sched-${name}`);
      for (const i of [0, 1]) {
        const saved = { ...process.env };
        Object.assign(process.env, env(i));
        try {
          const r = await run('score', '--pack', TINY(), '--shards', spec, '--out', out, ...extra);
          expect(r.code, r.err).toBe(0);
          expect(r.err).toContain(`worker ${i} of 2 (`);
          expect(r.err).toContain('2 of 4 shards');
        } finally {
          process.env = saved;
        }
        // Worker i has shards i and i + 2.
        expect(readdirSync(out).sort()).toEqual(
          (i === 0 ? ['00000', '00002'] : ['00000', '00001', '00002', '00003']).map((s) => `${s}.jsonl`),
        );
      }
      expectSameAsOneProcess(out);
    }
  });

  const parallel = (() => {
    try {
      execFileSync('parallel', ['--version'], { stdio: 'ignore' });
      return null;
    } catch {
      return 'GNU parallel is not installed (Debian package "parallel")';
    }
  })();
  describeWhen(
    'GNU parallel',
    {
      missing: parallel,
      check: 'has GNU parallel',
      ciHint: '.ci/run installs it with apt.',
      tag: 'no parallel',
    },
    () => {
      it('runs 2 workers at once over 4 shards; the merged outputs equal one process', async () => {
        const out = join(tmp, 'parallel');
        await promisify(execFile)(
          'parallel',
          [
            '-j',
            '2',
            '--halt',
            'now,fail=1',
            process.execPath,
            AGQG,
            'score',
            '--pack',
            TINY(),
            '--shards',
            spec,
            '--out',
            out,
            '--threads',
            '1',
            '--quiet',
            '--shard-count',
            '2',
            '--shard-index',
            '{}',
            ':::',
            '0',
            '1',
          ],
          { cwd: ROOT },
        );
        expectSameAsOneProcess(out);
      });
    },
  );

  const slurm = (() => {
    try {
      execFileSync('sinfo', ['-h', '-o', '%t'], { stdio: 'pipe', timeout: 10_000 });
      return null;
    } catch {
      return 'no Slurm controller answers sinfo (deploy/slurm/local-cluster.sh starts one)';
    }
  })();
  describeWhen(
    'Slurm',
    {
      missing: slurm,
      check: 'has a Slurm cluster',
      ciHint: '.ci/run installs slurm-wlm and starts a one-node cluster.',
      tag: 'no slurm',
    },
    () => {
      it('runs a real sbatch --array job over 4 shards; the merged outputs equal one process', async () => {
        const out = join(tmp, 'slurm');
        await promisify(execFile)(
          'sbatch',
          [
            '--wait',
            '--array=0-1',
            // One core each, so both tasks run at once on a 2-core node.
            '--cpus-per-task=1',
            '--export=ALL,AGQG_FORMAT=jsonl',
            `--output=${join(tmp, 'slurm-%A_%a.log')}`,
            `--chdir=${ROOT}`,
            join(ROOT, 'deploy/slurm/score-array.sbatch'),
            TINY(),
            spec,
            out,
          ],
          { cwd: ROOT, timeout: 300_000 },
        );
        expectSameAsOneProcess(out);
        const logs = readdirSync(tmp).filter((n) => n.startsWith('slurm-'));
        expect(logs).toHaveLength(2);
      }, 300_000);
    },
  );
});
