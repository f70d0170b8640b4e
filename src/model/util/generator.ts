// AGIQA-3K names its images "<generator>_<setting>_<index>.jpg"; evaluation and
// training group by both (6 generators, 10 generator settings in the pool).

/** "midjourney_lowstep_010.jpg" -> "midjourney" */
export function generatorOf(name: string): string {
  const i = name.indexOf('_');
  return i > 0 ? name.slice(0, i) : name;
}

/** "midjourney_lowstep_010.jpg" -> "midjourney_lowstep" */
export function settingOf(name: string): string {
  return name.replace(/_\d+\.[^.]+$/, '');
}
