// The calibration view's slice of the page's one store (StoreState.calibration): its shape and
// start. Apart from state.ts (the actions) so the store imports it without an import circle.
import type { CalibrationMode } from '../../model/training/calibrate.ts';
import type { FitOutcome } from '../../worker/calibration.ts';
import type { SavedPackInfo } from '../../worker/saved-packs.ts';
import type { RatingScale, RatingsCsv } from './ratings.ts';

/** A rating: a grade (1..K) from a key or a click, or a value from the CSV on its scale. */
export type Rating = { kind: 'grade'; grade: number } | { kind: 'value'; value: number };

export interface CalibrationSlice {
  open: boolean;
  ratings: Record<string, Rating>;
  /** The scale of the CSV's values (and of the new head's scores). */
  scale: RatingScale | null;
  csv: Omit<RatingsCsv, 'matched'> | null;
  csvError: string | null;
  /** What the person picked; null: the one the number of ratings allows. */
  mode: CalibrationMode | null;
  status: 'idle' | 'fitting' | 'done' | 'error';
  progress: string | null;
  error: string | null;
  outcome: FitOutcome | null;
  saved: SavedPackInfo[];
  saveMessage: { kind: 'info' | 'error'; text: string } | null;
  /** Id of a saved pack whose deletion waits for a yes. */
  confirmDelete: string | null;
}

export const initialCalibration: CalibrationSlice = {
  open: false,
  ratings: {},
  scale: null,
  csv: null,
  csvError: null,
  mode: null,
  status: 'idle',
  progress: null,
  error: null,
  outcome: null,
  saved: [],
  saveMessage: null,
  confirmDelete: null,
};
