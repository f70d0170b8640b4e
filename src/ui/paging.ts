// How much of a long list the page draws at once. No imports: the e2e tests
// (Node, no DOM types) read these numbers too.

/**
 * Cards the results grid draws per "Show more": a 1,000-image batch must not build 1,000 cards
 * (two charts each) in the page. Sort, the filters and "Find" work on every result, and the
 * exports take them all.
 */
export const RESULTS_PAGE = 100;

/** Rows drawn in the queue table; the rest are counted (a 5,000-image folder should not build 5,000 inputs). */
export const QUEUE_ROWS = 50;

/**
 * Units of drawing per frame while many things change at once (src/ui/paced.ts): a queue row is
 * one unit, a result card CARD_WEIGHT. Fifty rows or eight cards drawn in one go were 30-50 ms
 * tasks of script, style and layout on a 2-core machine.
 */
export const UNITS_PER_FRAME = 8;

/**
 * A result card (text, thumbnail, two SVG charts) is ~140 layout objects, a queue row ~15: a card
 * weighs a whole frame's share, so the cards of a message of results come one a frame.
 */
export const CARD_WEIGHT = 8;
