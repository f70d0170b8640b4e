/** The page's batch counted per grade under the pack's head and under the new one. */
export function GradeDistribution({
  labels,
  before,
  after,
  missing,
}: {
  labels: readonly string[];
  before: readonly number[];
  after: readonly number[];
  /** Images the new head could not grade here (retrain without their features). */
  missing: number;
}) {
  const max = Math.max(1, ...before, ...after);
  const bar = (n: number, cls: string) => (
    <span className={`dist-bar ${cls}`} style={{ width: `${(100 * n) / max}%` }} aria-hidden="true" />
  );
  return (
    <table className="grade-distribution" aria-label="Grades of the batch, pack head and new head">
      <thead>
        <tr>
          <th scope="col">Grade</th>
          <th scope="col">Pack head</th>
          <th scope="col">New head</th>
        </tr>
      </thead>
      <tbody>
        {labels.map((l, k) => (
          <tr key={l}>
            <th scope="row">{l}</th>
            <td>
              {bar(before[k], 'dist-old')} {before[k]}
            </td>
            <td>
              {bar(after[k], 'dist-new')} {after[k]}
            </td>
          </tr>
        ))}
      </tbody>
      {missing > 0 && (
        <caption className="muted">
          {missing} image{missing === 1 ? '' : 's'} graded before this session have no features here and are
          left out of the new head&apos;s column.
        </caption>
      )}
    </table>
  );
}
