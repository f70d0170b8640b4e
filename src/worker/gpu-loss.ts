// A lost WebGPU device (driver reset, GPU process crash, the debug fault) is not a clean
// failure in onnxruntime-web 1.30 (asyncify build, Chromium 156): after GPUDevice.destroy() the
// first session run fails ("failed to call OrtRun() ... Failed to download data from buffer ...
// The Device was lost before mapping was resolved"), but every later run never settles, with
// no error and no log. The retry of a failed batch image by image would then hang the worker,
// and the rest of the batch behind it. So the worker watches GPUDevice.lost itself and fails
// WebGPU runs with backend_failed without starting them once the device is gone; the caller
// then moves the pack to WASM.
import * as ort from 'onnxruntime-web/webgpu';
import { AgqgError } from '../model/errors.ts';
import type { SessionRunner, TensorIn, TensorOut } from '../model/scoring/runtime.ts';

/** What the worker needs of a GPUDevice (the WebGPU types are not in this project's libs). */
export interface GpuDeviceLike {
  destroy(): void;
  readonly lost: Promise<{ reason?: string; message?: string }>;
}

function isGpuDevice(d: unknown): d is GpuDeviceLike {
  return (
    typeof d === 'object' && d !== null && typeof (d as GpuDeviceLike).destroy === 'function' && 'lost' in d
  );
}

/**
 * The GPUDevice onnxruntime-web's WebGPU sessions run on, or null. The asyncify build sets
 * env.webgpu.device when its first WebGPU session creates the device, so ask after one exists.
 */
export async function ortWebGpuDevice(): Promise<GpuDeviceLike | null> {
  const device: unknown = await ort.env.webgpu.device;
  return isGpuDevice(device) ? device : null;
}

export class DeviceWatch {
  /** Why the device was lost, once it was. */
  lost: string | null = null;
  /** Called once when the device is lost (runs in flight at that moment). */
  private readonly onLoss = new Set<(why: string) => void>();
  constructor(device: GpuDeviceLike) {
    void device.lost.then((info) => {
      const why = [info.reason, info.message].filter(Boolean).join(': ') || 'no reason given';
      this.lost = why;
      for (const f of this.onLoss) f(why);
      this.onLoss.clear();
    });
  }
  /** Calls `f` if the device is lost before the returned function is called. */
  subscribe(f: (why: string) => void): () => void {
    this.onLoss.add(f);
    return () => this.onLoss.delete(f);
  }
}

const watches = new WeakMap<GpuDeviceLike, DeviceWatch>();

/** One watch per device, shared by every session on it; null when there is no device. */
export async function watchOrtWebGpuDevice(): Promise<DeviceWatch | null> {
  const device = await ortWebGpuDevice();
  if (!device) return null;
  let watch = watches.get(device);
  if (!watch) {
    watch = new DeviceWatch(device);
    watches.set(device, watch);
  }
  return watch;
}

/** A WebGPU session that fails (backend_failed) instead of hanging once its device is lost. */
export class DeviceLossGuard implements SessionRunner {
  /** Runs of the inner session not settled yet (one that started before the loss may never settle). */
  private inFlight = 0;
  constructor(
    private readonly inner: SessionRunner,
    private readonly label: string,
    private readonly watch: DeviceWatch,
  ) {}
  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }
  private lostError(why: string): AgqgError {
    return new AgqgError(
      'backend_failed',
      `${this.label}: inference failed on onnxruntime-web/webgpu: the WebGPU device was lost (${why})`,
    );
  }
  async run(feeds: Record<string, TensorIn>, outputs?: string[]): Promise<Record<string, TensorOut>> {
    // Not even started on a lost device: the run would never settle.
    if (this.watch.lost !== null) throw this.lostError(this.watch.lost);
    this.inFlight++;
    const run = this.inner.run(feeds, outputs).finally(() => this.inFlight--);
    // A run the loss cuts off may never settle: fail it when the device goes.
    return new Promise((resolve, reject) => {
      const unsubscribe = this.watch.subscribe((why) => reject(this.lostError(why)));
      run.then(resolve, reject).finally(unsubscribe);
    });
  }
  async release(): Promise<void> {
    // A run cut off by the loss may still be suspended inside the WASM module: freeing its session
    // under it could corrupt the runtime WASM now runs on, so that session's memory is left.
    if (this.inFlight > 0) return;
    await this.inner.release();
  }
}
