import { describe, expect, it } from 'vitest';
import { applyEvent, emptyAnswer, type StreamingAnswer } from './answer';
import { segmentAnswer } from './marking';

const ev = (event: string, data: unknown) => ({ event, data: JSON.stringify(data) });

function replay(events: { event: string; data: string }[]): StreamingAnswer {
  return events.reduce(applyEvent, emptyAnswer);
}

describe('applyEvent', () => {
  it('builds an offline answer from its events', () => {
    const answer = replay([
      ev('start', { conversation_id: 1, message_id: 2, offline: true, model: null }),
      ev('tool_start', { id: 'offline_1', name: 'get_holdings', input: { portfolio_id: 1 } }),
      ev('tool_end', {
        id: 'offline_1',
        name: 'get_holdings',
        input: { portfolio_id: 1 },
        summary: '5 holdings',
        is_error: false,
        as_of: '2025-02-14',
        ms: 6.7,
      }),
      ev('text', { text: 'Value ' }),
      ev('text', { text: '3,855,600.00' }),
      ev('grounding', { checked: 1, verified: 1, unverified: [] }),
      ev('done', { message_id: 2, status: 'complete', offline: true, cost_usd: 0 }),
    ]);
    expect(answer).toMatchObject({
      messageId: 2,
      offline: true,
      text: 'Value 3,855,600.00',
      status: 'complete',
      costUsd: 0,
      checked: 1,
    });
    expect(answer.steps).toEqual([
      expect.objectContaining({ id: 'offline_1', running: false, summary: '5 holdings', as_of: '2025-02-14' }),
    ]);
  });

  it('keeps the partial text and the reason of a failed answer', () => {
    const answer = replay([
      ev('text', { text: 'Partial' }),
      ev('error', { code: 'timeout', message: 'took too long', partial_text: 'Partial answer' }),
    ]);
    expect(answer.status).toBe('failed');
    expect(answer.text).toBe('Partial answer');
    expect(answer.error).toEqual({ code: 'timeout', message: 'took too long' });
  });

  it('shows a retry until text flows again and ignores unknown or broken events', () => {
    let answer = replay([ev('retry', { attempt: 2, wait_seconds: 1.5, reason: 'overloaded' })]);
    expect(answer.retry).toEqual({ attempt: 2, waitSeconds: 1.5, reason: 'overloaded' });
    answer = applyEvent(answer, ev('text', { text: 'ok' }));
    expect(answer.retry).toBeNull();
    expect(applyEvent(answer, ev('future_event', { x: 1 }))).toBe(answer);
    expect(applyEvent(answer, { event: 'text', data: 'not json' })).toBe(answer);
  });
});

describe('segmentAnswer', () => {
  const text = 'AAPL closed at 430.47 and returned 12% last year.';

  it('marks the unverified spans and keeps the rest plain', () => {
    const segments = segmentAnswer(text, [{ text: '12%', start: 35, end: 38 }]);
    expect(segments).toEqual([
      { text: 'AAPL closed at 430.47 and returned ', unverified: false },
      { text: '12%', unverified: true },
      { text: ' last year.', unverified: false },
    ]);
    expect(segments.map((s) => s.text).join('')).toBe(text);
  });

  it('sorts spans and skips overlapping or out-of-range ones', () => {
    const segments = segmentAnswer(text, [
      { text: '12%', start: 35, end: 38 },
      { text: '430.47', start: 15, end: 21 },
      { text: '30.4', start: 16, end: 20 },
      { text: 'x', start: 40, end: 400 },
    ]);
    expect(segments.filter((s) => s.unverified).map((s) => s.text)).toEqual(['430.47', '12%']);
    expect(segments.map((s) => s.text).join('')).toBe(text);
  });

  it('returns the whole text when nothing is unverified', () => {
    expect(segmentAnswer('', [])).toEqual([{ text: '', unverified: false }]);
    expect(segmentAnswer(text, [])).toEqual([{ text, unverified: false }]);
  });
});
