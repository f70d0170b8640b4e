// How much of a long list the page draws at once. No imports: the e2e tests
// (Node, no DOM types) read these numbers too.

/**
 * Cards the results grid draws per "Show more": a 1,000-image batch must not build 1,000 cards
 * (two charts each) in the page. Sort, the filters and "Find" work on every result, and the
 * exports take them all.
 */
export const RESULTS_PAGE = 100;
