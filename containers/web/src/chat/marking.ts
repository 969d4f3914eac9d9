// Numbers of an answer that no tool result backs are marked where they stand. The api's
// grounding check gives each one's character span in the answer text.
import type { UnverifiedNumber } from '../api/types';

export interface Segment {
  text: string;
  unverified: boolean;
}

/** Cuts ``text`` into plain and unverified segments; bad or overlapping spans are skipped. */
export function segmentAnswer(text: string, unverified: readonly UnverifiedNumber[]): Segment[] {
  const spans = unverified
    .filter((n) => Number.isInteger(n.start) && Number.isInteger(n.end))
    .filter((n) => n.start >= 0 && n.end > n.start && n.end <= text.length)
    .slice()
    .sort((a, b) => a.start - b.start);
  const segments: Segment[] = [];
  let cursor = 0;
  for (const span of spans) {
    if (span.start < cursor) continue; // overlaps the one before
    if (span.start > cursor) segments.push({ text: text.slice(cursor, span.start), unverified: false });
    segments.push({ text: text.slice(span.start, span.end), unverified: true });
    cursor = span.end;
  }
  if (cursor < text.length || segments.length === 0) {
    segments.push({ text: text.slice(cursor), unverified: false });
  }
  return segments;
}
