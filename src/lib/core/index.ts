// The package's pure core (`agqg-grader/core`): no DOM, no Node APIs, no ONNX. The Graded Response
// Model's maths, the pack manifest's schema and validation, the results schema and agreement metrics.
export * from '../../model/grading/grm.ts';
export {
  plcc,
  srcc,
  krcc,
  rmse,
  logistic4,
  fitLogistic4,
  plccLogistic,
  groupedSrcc,
  summarize,
  type Logistic4Params,
  type Logistic4Fit,
  type LogisticAgreement,
  type GroupMetric,
  type MetricsSummary,
} from '../../model/grading/metrics.ts';
export {
  ManifestSchema,
  parseManifest,
  MANIFEST_FILE,
  MANIFEST_SCHEMA,
  MANIFEST_VERSION,
  VARIANT_DTYPES,
  type Manifest,
  type ManifestInput,
  type VariantDtype,
} from '../../model/pack/manifest.ts';
export {
  ResultsFileSchema,
  ImageResultSchema,
  GradeResultSchema,
  gradeResultFromAbility,
  resultsToCsv,
  type ResultsFile,
  type ImageResult,
  type GradeResult,
} from '../../model/grading/result.ts';
export { AgqgError, ERROR_CODES, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../model/errors.ts';
