import { useStore } from '../store.ts';
import { openCalibration } from './state.ts';

/** Opens the calibration view; needs a pack with a trained quality head and graded images. */
export function CalibrateButton() {
  const open = useStore((s) => s.calibration.open);
  const canCalibrate = useStore(
    (s) => s.pack != null && s.pack.hasQualityHead && !s.pack.qualityUncalibrated,
  );
  return (
    <button
      type="button"
      className="secondary"
      aria-expanded={open}
      disabled={!canCalibrate}
      title={canCalibrate ? undefined : 'Needs a pack with a trained quality head'}
      onClick={() => openCalibration(!open)}
    >
      Calibrate to my ratings
    </button>
  );
}
