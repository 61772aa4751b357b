// Types of timeline.js for the unit tests (TypeScript reads this next to the .js; the server never serves it).
export interface TimelineTransition {
  readonly at: string;
  readonly from: string;
  readonly to: string;
}
export interface TimelineSegment {
  readonly state: string;
  readonly fromMs: number;
  readonly toMs: number;
}
export function timelineSegments(
  transitions: readonly TimelineTransition[],
  current: string,
  fromMs: number,
  toMs: number,
): { fromMs: number; segments: TimelineSegment[] };
