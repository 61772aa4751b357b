/** A set of accepted HTTP status codes, from `200`, `2xx`, `200,301`, `200-299`, or a list of those. */
export interface StatusMatcher {
  /** Inclusive ranges. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /** The spec as written, normalised: `2xx,301`. */
  readonly text: string;
  matches(code: number): boolean;
  /** `text`, so the matcher prints and serialises as the spec (`fleetprobe checks`, JSON). */
  toJSON(): string;
  toString(): string;
}

const ITEM = /^(?:([1-5])xx|(\d{3})(?:-(\d{3}))?)$/i;

/** Parses a status spec; returns an error string for a bad one. */
export function parseExpectStatus(
  spec: string | number | ReadonlyArray<string | number>,
): StatusMatcher | string {
  const items = (Array.isArray(spec) ? spec : [spec]).flatMap((s) => String(s).split(','));
  const ranges: Array<readonly [number, number]> = [];
  const texts: string[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const m = ITEM.exec(item);
    if (!m) return `bad status spec ${JSON.stringify(item)} (want e.g. 200, 2xx, 200-299, 200,301)`;
    if (m[1]) {
      const c = Number(m[1]) * 100;
      ranges.push([c, c + 99]);
      texts.push(`${m[1]}xx`);
      continue;
    }
    const lo = Number(m[2]);
    const hi = m[3] ? Number(m[3]) : lo;
    if (lo < 100 || hi > 599 || hi < lo) return `bad status spec ${JSON.stringify(item)}`;
    ranges.push([lo, hi]);
    texts.push(item);
  }
  if (ranges.length === 0) return 'empty status spec';
  return {
    ranges,
    text: texts.join(','),
    matches: (code) => ranges.some(([lo, hi]) => code >= lo && code <= hi),
    toJSON: () => texts.join(','),
    toString: () => texts.join(','),
  };
}
