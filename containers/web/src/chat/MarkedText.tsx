import type { UnverifiedNumber } from '../api/types';
import { segmentAnswer } from './marking';

/** An answer's text with the numbers no tool result backs marked where they stand. */
export function MarkedText({ text, unverified }: { text: string; unverified: readonly UnverifiedNumber[] }) {
  return (
    <>
      {segmentAnswer(text, unverified).map((segment, index) =>
        segment.unverified ? (
          <mark key={index} className="unverified" title="Unverified: no tool result backs this number">
            {segment.text}
            <span className="visually-hidden"> (unverified)</span>
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}
