import { memo } from 'react';
import { useThumbUrl } from '../thumbs.ts';
import { useStore } from '../store.ts';
import { clearRating, rate } from './state.ts';

/**
 * One image to rate: the card takes keys 1..K (and the grade labels' initials) while focused,
 * moves focus to the next card after a rating; the grade buttons do the same by pointer.
 */
export const RatingCard = memo(function RatingCard({
  id,
  labels,
  keys,
  scaleNote,
}: {
  id: string;
  labels: readonly string[];
  keys: ReadonlyMap<string, number>;
  scaleNote: (grade: number) => string;
}) {
  const item = useStore((s) => s.items[id]);
  const rating = useStore((s) => s.calibration.ratings[id]);
  const url = useThumbUrl(item?.thumbnail ?? null);
  if (!item) return null;
  const next = (el: HTMLElement) => {
    const cards = [...document.querySelectorAll<HTMLElement>('[data-rating-card]')];
    cards[cards.indexOf(el) + 1]?.focus();
  };
  const current =
    rating?.kind === 'grade'
      ? `rated ${rating.grade} (${labels[rating.grade - 1]})`
      : rating?.kind === 'value'
        ? `rated ${rating.value} (from the CSV)`
        : 'not rated';
  return (
    <li
      className="rating-card"
      data-rating-card=""
      tabIndex={0}
      aria-label={`${item.name}: ${current}`}
      onKeyDown={(e) => {
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        const g = keys.get(e.key.toLowerCase());
        if (g !== undefined) {
          e.preventDefault();
          rate(id, g);
          next(e.currentTarget);
        } else if (e.key === 'Backspace' || e.key === 'Delete' || e.key === '0') {
          e.preventDefault();
          clearRating(id);
        }
      }}
    >
      {url ? <img src={url} alt="" /> : <div className="thumb-placeholder" aria-hidden="true" />}
      <div className="rating-name" title={item.name}>
        {item.name}
      </div>
      <div className="muted rating-now">
        pack: {item.result?.quality?.grade} · {current}
      </div>
      <div className="rating-buttons" role="group" aria-label={`Rate ${item.name}`}>
        {labels.map((label, i) => (
          <button
            key={label}
            type="button"
            tabIndex={-1}
            aria-pressed={rating?.kind === 'grade' && rating.grade === i + 1}
            title={`${label}: ${scaleNote(i + 1)}`}
            onClick={(e) => {
              rate(id, i + 1);
              next(e.currentTarget.closest('[data-rating-card]') as HTMLElement);
            }}
          >
            {i + 1}
            <span className="visually-hidden"> {label}</span>
          </button>
        ))}
      </div>
    </li>
  );
});
