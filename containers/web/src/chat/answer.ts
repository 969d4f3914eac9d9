// The state of an answer while it streams, built from the api's events (see the
// STREAM_DESCRIPTION of POST /api/chat/conversations/<id>/messages).
import type { ToolCall, UnverifiedNumber } from '../api/types';
import type { SseMessage } from './sse';

export interface ToolStep extends Partial<ToolCall> {
  id: string;
  name: string;
  input: Record<string, unknown>;
  running: boolean;
  ms?: number;
}

export interface StreamingAnswer {
  messageId: number | null;
  text: string;
  offline: boolean;
  model: string | null;
  steps: ToolStep[];
  unverified: UnverifiedNumber[];
  checked: number | null;
  status: 'streaming' | 'complete' | 'failed';
  costUsd: number | null;
  error: { code: string; message: string } | null;
  retry: { attempt: number; waitSeconds: number; reason: string } | null;
}

export const emptyAnswer: StreamingAnswer = {
  messageId: null,
  text: '',
  offline: false,
  model: null,
  steps: [],
  unverified: [],
  checked: null,
  status: 'streaming',
  costUsd: null,
  error: null,
  retry: null,
};

type Data = Record<string, unknown>;

function parse(message: SseMessage): Data | null {
  try {
    const value: unknown = JSON.parse(message.data);
    return value && typeof value === 'object' ? (value as Data) : null;
  } catch {
    return null;
  }
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** The answer after one more event; unknown events leave it as it was. */
export function applyEvent(answer: StreamingAnswer, message: SseMessage): StreamingAnswer {
  const data = parse(message);
  if (!data) return answer;
  switch (message.event) {
    case 'start':
      return {
        ...answer,
        messageId: num(data.message_id),
        offline: data.offline === true,
        model: str(data.model),
      };
    case 'text':
      return { ...answer, text: answer.text + (str(data.text) ?? ''), retry: null };
    case 'tool_start':
      return {
        ...answer,
        steps: [
          ...answer.steps,
          {
            id: str(data.id) ?? `step-${answer.steps.length + 1}`,
            name: str(data.name) ?? 'tool',
            input: (data.input as Record<string, unknown>) ?? {},
            running: true,
          },
        ],
      };
    case 'tool_end': {
      const id = str(data.id);
      const finished: Partial<ToolStep> = {
        running: false,
        summary: str(data.summary) ?? '',
        is_error: data.is_error === true,
        as_of: str(data.as_of),
        ms: num(data.ms) ?? undefined,
      };
      const known = answer.steps.some((step) => step.id === id);
      const steps = known
        ? answer.steps.map((step) => (step.id === id ? { ...step, ...finished } : step))
        : [
            ...answer.steps,
            {
              id: id ?? `step-${answer.steps.length + 1}`,
              name: str(data.name) ?? 'tool',
              input: (data.input as Record<string, unknown>) ?? {},
              ...finished,
              running: false,
            },
          ];
      return { ...answer, steps };
    }
    case 'retry':
      return {
        ...answer,
        retry: {
          attempt: num(data.attempt) ?? 1,
          waitSeconds: num(data.wait_seconds) ?? 0,
          reason: str(data.reason) ?? '',
        },
      };
    case 'grounding':
      return {
        ...answer,
        checked: num(data.checked),
        unverified: Array.isArray(data.unverified) ? (data.unverified as UnverifiedNumber[]) : [],
      };
    case 'done':
      return {
        ...answer,
        status: data.status === 'failed' ? 'failed' : 'complete',
        costUsd: num(data.cost_usd),
        offline: data.offline === true || answer.offline,
        model: str(data.model) ?? answer.model,
        messageId: num(data.message_id) ?? answer.messageId,
        retry: null,
      };
    case 'error':
      return {
        ...answer,
        status: 'failed',
        text: str(data.partial_text) ?? answer.text,
        error: { code: str(data.code) ?? 'error', message: str(data.message) ?? 'The answer failed.' },
        retry: null,
      };
    default:
      return answer;
  }
}
