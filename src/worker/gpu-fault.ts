// Debug-only fault: destroys the GPUDevice onnxruntime-web's WebGPU sessions run on,
// as a driver reset or a crashed GPU process would, so the fallback to WASM can be
// exercised on a machine whose only WebGPU adapter is a software one.
import { ortWebGpuDevice } from './gpu-loss.ts';

/** Destroys onnxruntime-web's WebGPU device and waits until the loss is reported; false when there is none. */
export async function destroyOrtWebGpuDevice(): Promise<boolean> {
  const device = await ortWebGpuDevice();
  if (!device) return false;
  device.destroy();
  await device.lost;
  return true;
}
