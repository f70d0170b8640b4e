// agqg fetch against a local fake of the Hugging Face hub (127.0.0.1 only)
// serving the tiny-clip fixture in the hub layout: revision + tree APIs with
// sizes, git blob ids and LFS SHA-256, and the resolve endpoint with Range
// support and CDN-style redirects for LFS files. Faults (cut connections,
// ignored ranges, flipped bytes, stalls, missing files) are switched per test.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { openPackDir } from '../src/cli/node-pack-source.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { KNOWN_MODELS, specForRepo, type ModelSpec } from '../src/cli/fetch/catalog.ts';
import { fetchPack, FETCH_RECORD_FILE, type FetchPackOptions } from '../src/cli/fetch/fetch-pack.ts';
import { AgqgError } from '../src/model/errors.ts';
import { readPackFile } from '../src/model/pack/pack.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import { describeShared, sharedPath } from './shared.ts';

const FIXTURE = 'fixtures/tiny-clip';
const REPO = 'test-org/tiny-clip';
const COMMIT = 'a'.repeat(40);
/** Tree entries per page, so the Link-header pagination is exercised. */
const PAGE = 3;

interface Fault {
  /** Destroy the socket after this many body bytes, on the first `times` GETs of the file. */
  cutAfter?: number;
  /** Send this many bytes, then go silent until the test ends. */
  stallAfter?: number;
  /** Flip one byte in the body, on the first `times` GETs. */
  flip?: boolean;
  times: number;
}

interface Logged {
  method: string;
  path: string;
  range: string | null;
}

class FakeHub {
  readonly files = new Map<string, Buffer>();
  readonly log: Logged[] = [];
  readonly faults = new Map<string, Fault>();
  api = true;
  ignoreRange = false;
  hidden = new Set<string>();
  onStall: (() => void) | null = null;
  private server!: Server;
  private stalled: ServerResponse[] = [];
  base = '';

  async load(dir: string): Promise<void> {
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const abs = join(d, e.name);
        if (e.isDirectory()) await walk(abs);
        else this.files.set(relative(dir, abs).split(sep).join('/'), await readFile(abs));
      }
    };
    await walk(dir);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.log.length = 0;
    this.faults.clear();
    this.api = true;
    this.ignoreRange = false;
    this.hidden.clear();
    this.onStall = null;
    this.releaseStalled();
  }

  releaseStalled(): void {
    for (const r of this.stalled) r.destroy();
    this.stalled = [];
  }

  async stop(): Promise<void> {
    this.releaseStalled();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  gets(path: string): Logged[] {
    return this.log.filter((l) => l.method === 'GET' && l.path === path);
  }

  private visible(path: string): Buffer | undefined {
    return this.hidden.has(path) ? undefined : this.files.get(path);
  }

  private isLfs(path: string): boolean {
    return path.endsWith('.onnx');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const path = decodeURIComponent(url.pathname);
    const api = `/api/models/${REPO}/`;
    if (path.startsWith(api)) {
      this.log.push({ method: req.method ?? '', path: url.pathname + url.search, range: null });
      if (!this.api) return void res.writeHead(404).end('not found');
      const rest = path.slice(api.length);
      if (rest === 'revision/main' || rest === `revision/${COMMIT}`) {
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: REPO, sha: COMMIT }));
      }
      if (rest === `tree/${COMMIT}` && url.searchParams.get('recursive') === 'true')
        return this.tree(url, res);
      return void res.writeHead(404).end('not found');
    }
    const resolve = `/${REPO}/resolve/`;
    if (path.startsWith(resolve)) {
      const [rev, ...parts] = path.slice(resolve.length).split('/');
      const file = parts.join('/');
      const body = this.visible(file);
      if ((rev !== 'main' && rev !== COMMIT) || !body) {
        this.log.push({ method: req.method ?? '', path: file, range: req.headers.range ?? null });
        return void res.writeHead(404).end('Entry not found');
      }
      if (this.isLfs(file)) {
        // Like the hub: LFS content lives on a CDN; the redirect names its size and hash.
        this.log.push({
          method: `${req.method ?? ''}-redirect`,
          path: file,
          range: req.headers.range ?? null,
        });
        return void res
          .writeHead(302, {
            location: `/cdn/${parts.map(encodeURIComponent).join('/')}`,
            'x-linked-size': String(body.byteLength),
            'x-linked-etag': `"${sha256(body)}"`,
          })
          .end();
      }
      return this.serve(req, res, file, body, `"${gitOid(body)}"`);
    }
    if (path.startsWith('/cdn/')) {
      const file = path.slice('/cdn/'.length);
      const body = this.visible(file);
      if (!body) return void res.writeHead(404).end();
      return this.serve(req, res, file, body, `"${sha256(body)}"`);
    }
    res.writeHead(404).end();
  }

  private tree(url: URL, res: ServerResponse): void {
    const entries: object[] = [{ type: 'directory', path: 'onnx', oid: 'f'.repeat(40), size: 0 }];
    for (const [path, body] of [...this.files].sort(([a], [b]) => a.localeCompare(b))) {
      if (this.hidden.has(path)) continue;
      entries.push(
        this.isLfs(path)
          ? {
              type: 'file',
              path,
              size: body.byteLength,
              oid: gitOid(Buffer.from('pointer')),
              lfs: { oid: sha256(body), size: body.byteLength, pointerSize: 134 },
            }
          : { type: 'file', path, size: body.byteLength, oid: gitOid(body) },
      );
    }
    const start = Number(url.searchParams.get('cursor') ?? '0');
    const page = entries.slice(start, start + PAGE);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (start + PAGE < entries.length) {
      const next = new URL(url.href);
      next.searchParams.set('cursor', String(start + PAGE));
      headers.link = `<${next.href}>; rel="next"`;
    }
    res.writeHead(200, headers).end(JSON.stringify(page));
  }

  private serve(req: IncomingMessage, res: ServerResponse, file: string, full: Buffer, etag: string): void {
    const range = req.headers.range ?? null;
    this.log.push({ method: req.method ?? '', path: file, range });
    let start = 0;
    const m = range && !this.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) start = Number(m[1]);
    if (start > full.byteLength) {
      return void res.writeHead(416, { 'content-range': `bytes */${full.byteLength}` }).end();
    }
    const headers: Record<string, string> = {
      etag,
      'content-length': String(full.byteLength - start),
      'accept-ranges': 'bytes',
    };
    if (m) headers['content-range'] = `bytes ${start}-${full.byteLength - 1}/${full.byteLength}`;
    res.writeHead(m ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    let body = full.subarray(start);
    const fault = this.faults.get(file);
    const active = fault && fault.times > 0;
    if (fault && active) fault.times--;
    if (active && fault.flip) {
      body = Buffer.from(body);
      body[body.byteLength >> 1] ^= 0xff;
    }
    if (active && fault.cutAfter !== undefined) {
      res.write(body.subarray(0, fault.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (active && fault.stallAfter !== undefined) {
      this.stalled.push(res);
      res.write(body.subarray(0, fault.stallAfter), () => setTimeout(() => this.onStall?.(), 50));
      return;
    }
    res.end(body);
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function gitOid(b: Uint8Array): string {
  return createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex');
}

describeShared('agqg fetch', [FIXTURE], () => {
  const hub = new FakeHub();
  let work: string;
  let io: ReturnType<typeof bufferIO>;
  const spec: ModelSpec = {
    ...KNOWN_MODELS['clip-vit-base-patch32'],
    repo: REPO,
    name: 'Tiny CLIP',
    upstream: 'tiny-random-clip',
  };

  beforeAll(async () => {
    await hub.load(sharedPath(FIXTURE));
    await hub.start();
  });
  afterAll(async () => {
    await hub.stop();
  });
  beforeEach(async () => {
    hub.reset();
    work = await mkdtemp(join(tmpdir(), 'agqg-fetch-'));
    io = bufferIO();
  });
  afterEach(async () => {
    hub.releaseStalled();
    await rm(work, { recursive: true, force: true });
  });

  const run = (over: Partial<FetchPackOptions> = {}) =>
    fetchPack({
      id: 'tiny',
      spec,
      variants: ['fp32', 'q8'],
      baseUrl: hub.base,
      outDir: join(work, 'models', 'tiny'),
      indexFile: join(work, 'models', 'index.json'),
      force: false,
      io,
      retries: 3,
      retryDelayMs: 10,
      ...over,
    });

  /** Every fetched file equals the fixture byte for byte. */
  async function expectIdentical(dir: string, paths: string[]): Promise<void> {
    for (const p of paths) {
      const got = await readFile(join(dir, p));
      expect(sha256(got), p).toBe(sha256(hub.files.get(p)!));
    }
  }

  async function rejection(p: Promise<unknown>): Promise<AgqgError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgqgError);
    return err as AgqgError;
  }

  const FETCHED = [
    'config.json',
    'preprocessor_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'onnx/vision_model.onnx',
    'onnx/text_model.onnx',
  ];

  it('fetches a verified pack that openPack opens and the scorer runs, and lists it in the index', async () => {
    await writeFile(
      join(await mkdirp(join(work, 'models')), 'index.json'),
      JSON.stringify([{ id: 'default', name: 'Default', description: 'd' }]),
    );
    const r = await run();
    const dir = join(work, 'models', 'tiny');
    expect(r.upToDate).toBe(false);
    // The fixture has no q8 weights: skipped, not an error.
    expect(r.skipped.sort()).toEqual(['onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx']);
    expect(r.bytesDownloaded).toBe(FETCHED.reduce((s, p) => s + hub.files.get(p)!.byteLength, 0));
    await expectIdentical(dir, FETCHED);
    // Pagination followed (12 entries / 3 per page), and only the planned files were downloaded.
    expect(hub.log.filter((l) => l.path.includes('/tree/')).length).toBeGreaterThan(2);
    expect(
      new Set(hub.log.filter((l) => l.method === 'GET' && !l.path.startsWith('/api')).map((l) => l.path)),
    ).toEqual(new Set(FETCHED));

    const pack = await openPackDir(dir);
    const m = pack.manifest;
    expect(m.id).toBe('tiny');
    expect(m.provenance.inferred).toBeUndefined();
    expect(m.provenance.backbone?.source).toContain(COMMIT);
    expect(m.files.map((f) => f.path).sort()).toEqual([...FETCHED].sort());
    for (const f of m.files) {
      expect(f.sha256, f.path).toBe(sha256(hub.files.get(f.path)!));
      expect(f.size, f.path).toBe(hub.files.get(f.path)!.byteLength);
      await readPackFile(pack, f.path); // verifies size and hash
    }
    expect(m.vision.variants).toEqual([{ dtype: 'fp32', file: 'onnx/vision_model.onnx' }]);
    expect(m.text?.tokenizer).toEqual({ tokenizerJson: 'tokenizer.json' });
    const record = JSON.parse(await readFile(join(dir, FETCH_RECORD_FILE), 'utf8')) as {
      commit: string;
      baseUrl: string;
    };
    expect(record).toMatchObject({ commit: COMMIT, baseUrl: hub.base, repo: REPO });
    // No staging left behind.
    expect(await readdir(join(work, 'models'))).toEqual(['index.json', 'tiny']);

    const refs = JSON.parse(await readFile(sharedPath('fixtures/tiny-clip-refs/refs.json'), 'utf8')) as {
      prompts: { text: string; text_embeds: number[] }[];
    };
    const scorer = await PackScorer.load(pack, new NodeRuntime());
    try {
      const [emb] = await scorer.embedTexts([refs.prompts[0].text]);
      const ref = refs.prompts[0].text_embeds;
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < ref.length; i++) {
        dot += emb[i] * ref[i];
        na += emb[i] ** 2;
        nb += ref[i] ** 2;
      }
      expect(emb.length).toBe(ref.length);
      expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.9999);
    } finally {
      await scorer.release();
    }

    const index = JSON.parse(await readFile(join(work, 'models', 'index.json'), 'utf8')) as unknown;
    expect(index).toEqual([
      { id: 'default', name: 'Default', description: 'd' },
      { id: 'tiny', name: 'Tiny CLIP', description: spec.description },
    ]);

    // A second run finds the pack up to date and downloads nothing.
    hub.log.length = 0;
    const again = await run();
    expect(again.upToDate).toBe(true);
    expect(hub.log.filter((l) => l.method === 'GET' && !l.path.startsWith('/api'))).toEqual([]);
  });

  it('resumes with a Range request after a cut connection; the file is byte-identical', async () => {
    hub.faults.set('onnx/text_model.onnx', { cutAfter: 1_000_000, times: 1 });
    await run();
    const gets = hub.gets('onnx/text_model.onnx');
    expect(gets.length).toBe(2);
    expect(gets[0].range).toBeNull();
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1].range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(1_000_000);
    expect(io.stderr()).toMatch(/text_model\.onnx: .*retry 1\/3 from byte \d+/);
    await expectIdentical(join(work, 'models', 'tiny'), FETCHED);
  });

  it('restarts from byte 0 when the server ignores Range (200), still byte-identical', async () => {
    hub.ignoreRange = true;
    hub.faults.set('onnx/text_model.onnx', { cutAfter: 1_000_000, times: 1 });
    await run();
    const gets = hub.gets('onnx/text_model.onnx');
    expect(gets.length).toBe(2);
    expect(gets[1].range).toMatch(/^bytes=\d+-$/);
    expect(io.stderr()).toContain('ignored the range request (200); restarting from byte 0');
    await expectIdentical(join(work, 'models', 'tiny'), FETCHED);
  });

  it('counts a silent connection as cut and resumes', async () => {
    hub.faults.set('onnx/vision_model.onnx', { stallAfter: 300_000, times: 1 });
    await run({ idleTimeoutMs: 500 });
    const gets = hub.gets('onnx/vision_model.onnx');
    expect(gets.map((g) => g.range)).toEqual([null, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(io.stderr()).toContain('no data for 0.5 s');
    await expectIdentical(join(work, 'models', 'tiny'), FETCHED);
  });

  it('a run killed mid-file leaves nothing that opens as a pack; the next run resumes with Range', async () => {
    const abort = new AbortController();
    hub.faults.set('onnx/text_model.onnx', { stallAfter: 2_000_000, times: 1 });
    hub.onStall = () => abort.abort(new Error('killed'));
    const err = await rejection(run({ signal: abort.signal }));
    expect(err.code).toBe('cancelled');
    const out = join(work, 'models', 'tiny');
    expect(existsSync(out)).toBe(false);
    await expect(openPackDir(out)).rejects.toThrow();
    // The parent folder does not open as a pack either, and the staging folder holds only hidden state.
    const staging = join(work, 'models', '.tiny.partial');
    expect((await stat(join(staging, 'onnx', 'text_model.onnx.part'))).size).toBeGreaterThan(0);
    expect(existsSync(join(staging, 'manifest.json'))).toBe(false);
    expect(existsSync(join(work, 'models', 'index.json'))).toBe(false);

    hub.releaseStalled();
    hub.log.length = 0;
    await run();
    const gets = hub.gets('onnx/text_model.onnx');
    expect(gets.length).toBe(1);
    expect(Number(/^bytes=(\d+)-$/.exec(gets[0].range ?? '')?.[1])).toBeGreaterThan(0);
    // Files finished before the kill are not downloaded again.
    expect(hub.gets('onnx/vision_model.onnx')).toEqual([]);
    expect(hub.gets('tokenizer.json')).toEqual([]);
    expect(io.stderr()).toContain('tokenizer.json: already here, 3.5 MiB, git blob id matches');
    await expectIdentical(out, FETCHED);
    expect(existsSync(staging)).toBe(false);
    await openPackDir(out);
  });

  it('re-downloads a corrupted file once, then fails naming the file and both hashes', async () => {
    hub.faults.set('onnx/vision_model.onnx', { flip: true, times: 1 });
    await run();
    expect(hub.gets('onnx/vision_model.onnx').length).toBe(2);
    expect(io.stderr()).toContain('onnx/vision_model.onnx: does not match the hub');
    await expectIdentical(join(work, 'models', 'tiny'), FETCHED);

    await rm(join(work, 'models'), { recursive: true });
    hub.faults.set('onnx/vision_model.onnx', { flip: true, times: 99 });
    const good = hub.files.get('onnx/vision_model.onnx')!;
    const bad = Buffer.from(good);
    bad[bad.byteLength >> 1] ^= 0xff;
    const err = await rejection(run());
    expect(err.code).toBe('pack_file_tampered');
    expect(err.message).toContain('onnx/vision_model.onnx');
    expect(err.message).toContain(`expected ${sha256(good)}, got ${sha256(bad)}`);
    expect(existsSync(join(work, 'models', 'tiny'))).toBe(false);
  });

  it('checks plain files by their git blob id', async () => {
    hub.faults.set('tokenizer.json', { flip: true, times: 99 });
    const err = await rejection(run());
    expect(err.code).toBe('pack_file_tampered');
    expect(err.message).toContain(`git blob id: expected ${gitOid(hub.files.get('tokenizer.json')!)}`);
  });

  it('a required file missing from the repo stops the fetch before any download', async () => {
    hub.hidden.add('tokenizer.json');
    const err = await rejection(run());
    expect(err.code).toBe('pack_file_missing');
    expect(err.message).toContain('tokenizer.json');
    expect(hub.log.filter((l) => l.method === 'GET' && !l.path.startsWith('/api'))).toEqual([]);
  });

  it('asks for weight formats the repo lacks entirely: a clear error listing what it has', async () => {
    const err = await rejection(run({ variants: ['fp16', 'q4'] }));
    expect(err.message).toMatch(
      /none of the asked weight formats \(fp16, q4\) of onnx\/vision_model\.onnx; it has: onnx\/vision_model\.onnx/,
    );
  });

  it('without the hub API (a plain mirror): 404 for an optional variant is skipped, for a required file an error', async () => {
    hub.api = false;
    const r = await run({ spec: specForRepo(REPO, 'main') });
    expect(r.skipped).toEqual(
      expect.arrayContaining(['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx']),
    );
    const pack = await openPackDir(join(work, 'models', 'tiny'));
    // Sizes and hashes came from the headers (X-Linked-Size/-Etag, ETag) and were checked.
    for (const f of pack.manifest.files) expect(f.sha256, f.path).toBe(sha256(hub.files.get(f.path)!));
    expect(hub.log.some((l) => l.method === 'HEAD-redirect' && l.path === 'onnx/vision_model.onnx')).toBe(
      true,
    );

    hub.hidden.add('preprocessor_config.json');
    const err = await rejection(run({ spec: specForRepo(REPO, 'main'), outDir: join(work, 'other') }));
    expect(err.code).toBe('pack_file_missing');
    expect(err.message).toContain('preprocessor_config.json');
  });

  it('refuses to replace a folder it did not make, and keeps an index in the {packs} form', async () => {
    const out = await mkdirp(join(work, 'models', 'tiny'));
    await writeFile(join(out, 'mine.txt'), 'x');
    expect((await rejection(run())).message).toContain('was not made by agqg fetch');
    await writeFile(
      join(work, 'models', 'index.json'),
      JSON.stringify({ packs: [{ id: 'default', name: 'D', description: '' }] }),
    );
    await run({ force: true });
    expect(existsSync(join(out, 'mine.txt'))).toBe(false);
    expect(JSON.parse(await readFile(join(work, 'models', 'index.json'), 'utf8'))).toEqual({
      packs: [
        { id: 'default', name: 'D', description: '' },
        { id: 'tiny', name: 'Tiny CLIP', description: spec.description },
      ],
    });
  });

  it('runs as `agqg fetch` with --repo, --base-url, --out and --variants', async () => {
    const cli = bufferIO();
    const out = join(work, 'cli-pack');
    const code = await main(
      [
        'fetch',
        'tiny-cli',
        '--repo',
        REPO,
        '--base-url',
        hub.base,
        '--out',
        out,
        '--variants',
        'fp32',
        '--no-index',
      ],
      cli,
    );
    expect(cli.stderr()).toContain('ready');
    expect(code).toBe(0);
    expect(cli.stdout()).toContain('vision: fp32; text: fp32');
    expect((await openPackDir(out)).manifest.id).toBe('tiny-cli');
    const bad = bufferIO();
    expect(await main(['fetch', 'tiny-cli', '--variants', 'fp33', '--repo', REPO], bad)).toBe(2);
    expect(bad.stderr()).toContain('"fp33" is not one of');
  });
});

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
