import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { NavLink, useNavigate, useParams } from 'react-router-dom';
import { api, send } from '../api/client';
import { keys } from '../api/queries';
import type { ChatMessage, ConversationDetail, ConversationSummary, UsageReport } from '../api/types';
import { applyEvent, emptyAnswer, type StreamingAnswer, type ToolStep } from '../chat/answer';
import { MarkedText } from '../chat/MarkedText';
import { readEventStream } from '../chat/sse';
import { ErrorNote, isNotFound, Loading } from '../components/Status';
import { formatCost, formatMoney, formatTimestamp } from '../lib/format';
import { NotFound } from './NotFound';

export default function ChatPage() {
  const param = useParams().conversationId;
  const conversationId = param === undefined ? undefined : Number(param);
  const conversations = useQuery({
    queryKey: keys.conversations,
    queryFn: () => api<ConversationSummary[]>('/api/chat/conversations'),
  });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: () => api<ConversationSummary>('/api/chat/conversations', { method: 'POST', json: {} }),
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: keys.conversations });
      navigate(`/chat/${created.id}`);
    },
  });

  return (
    <div className="page chat">
      <div className="page-head">
        <h1>Assistant</h1>
        <UsageSummary />
      </div>
      <div className="chat-layout">
        <nav className="card conversations" aria-label="Conversations">
          <button className="primary" type="button" onClick={() => create.mutate()} disabled={create.isPending}>
            New conversation
          </button>
          {create.error && <ErrorNote error={create.error} />}
          {conversations.isPending ? (
            <Loading what="conversations" />
          ) : conversations.isError ? (
            <ErrorNote error={conversations.error} />
          ) : conversations.data.length === 0 ? (
            <p className="muted small">No conversations yet.</p>
          ) : (
            <ul>
              {conversations.data.map((c) => (
                <li key={c.id}>
                  <NavLink to={`/chat/${c.id}`}>
                    {c.title}
                    <span className="muted small"> · {c.message_count} messages</span>
                  </NavLink>
                </li>
              ))}
            </ul>
          )}
        </nav>
        <div>
          {conversationId === undefined ? (
            <section className="card">
              <p>
                Ask about your portfolio, a ticker's prediction, the model's honesty or your risk. The assistant
                answers with this app's own data through tools you can inspect; numbers no tool result backs are
                marked as unverified.
              </p>
              <button type="button" onClick={() => create.mutate()} disabled={create.isPending}>
                Start a conversation
              </button>
            </section>
          ) : Number.isInteger(conversationId) && conversationId > 0 ? (
            <Conversation key={conversationId} id={conversationId} />
          ) : (
            <NotFound what="conversation" />
          )}
        </div>
      </div>
    </div>
  );
}

function UsageSummary() {
  const usage = useQuery({ queryKey: keys.usage, queryFn: () => api<UsageReport>('/api/usage') });
  if (!usage.data) return null;
  const { user, offline, month, model } = usage.data;
  const share = user.budget_usd > 0 ? Math.min(1, user.spent_usd / user.budget_usd) : 0;
  return (
    <div className="usage" data-testid="usage">
      {offline ? (
        <span className="badge offline" title="No API key is set: the offline assistant answers from the app's data, at no cost">
          Offline assistant
        </span>
      ) : (
        <span className="badge">{model}</span>
      )}{' '}
      <span className="small">
        {month}: {formatCost(user.spent_usd)} of {formatMoney(user.budget_usd)} budget spent
      </span>
      <div
        className="usage-bar"
        role="meter"
        aria-label="Share of this month's chat budget spent"
        aria-valuemin={0}
        aria-valuemax={user.budget_usd}
        aria-valuenow={user.spent_usd}
      >
        <span style={{ width: `${share * 100}%` }} />
      </div>
    </div>
  );
}

interface Pending {
  question: string;
  answer: StreamingAnswer;
}

function Conversation({ id }: { id: number }) {
  const queryClient = useQueryClient();
  const detail = useQuery({
    queryKey: keys.conversation(id),
    queryFn: () => api<ConversationDetail>(`/api/chat/conversations/${id}`),
  });
  const [text, setText] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [pending?.answer.text, pending?.answer.steps.length, detail.data?.messages.length]);

  const ask = async (question: string) => {
    setFailure(null);
    setPending({ question, answer: emptyAnswer });
    const controller = new AbortController();
    abort.current = controller;
    try {
      const response = await send(`/api/chat/conversations/${id}/messages`, {
        method: 'POST',
        json: { text: question },
        signal: controller.signal,
      });
      if (!response.body) throw new Error('The answer did not stream.');
      await readEventStream(response.body, (message) =>
        setPending((current) => (current ? { ...current, answer: applyEvent(current.answer, message) } : current)),
      );
    } catch (error) {
      if ((error as Error).name !== 'AbortError') setFailure(error);
    } finally {
      abort.current = null;
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: keys.conversation(id) }),
        queryClient.invalidateQueries({ queryKey: keys.conversations }),
        queryClient.invalidateQueries({ queryKey: keys.usage }),
      ]);
      setPending(null);
    }
  };

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const question = text.trim();
    if (!question || pending) return;
    setText('');
    void ask(question);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) submit();
  };

  if (detail.isError && isNotFound(detail.error)) return <NotFound what="conversation" />;
  if (detail.isPending) return <Loading what="the conversation" />;
  if (detail.isError) return <ErrorNote error={detail.error} />;

  return (
    <section className="card" aria-labelledby="conversation-title">
      <h2 id="conversation-title">{detail.data.title}</h2>
      <div className="messages" aria-live="polite" aria-busy={pending !== null}>
        {detail.data.messages.map((m) => (
          <StoredMessage key={m.id} message={m} />
        ))}
        {pending && (
          <>
            <div className="message user">{pending.question}</div>
            <AnswerView answer={pending.answer} />
          </>
        )}
        <div ref={end} />
      </div>
      {failure !== null && <ErrorNote error={failure} title="The question was not answered" />}
      <form className="composer" onSubmit={submit}>
        <label htmlFor="question" className="visually-hidden">
          Your question
        </label>
        <textarea
          id="question"
          value={text}
          maxLength={4000}
          placeholder="Ask about your portfolio, a ticker or the model… (Enter to send, Shift+Enter for a new line)"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button className="primary" type="submit" disabled={pending !== null || !text.trim()}>
          {pending ? 'Answering…' : 'Ask'}
        </button>
      </form>
    </section>
  );
}

function StoredMessage({ message }: { message: ChatMessage }) {
  if (message.role === 'user') return <div className="message user">{message.text}</div>;
  return (
    <AnswerView
      answer={{
        ...emptyAnswer,
        messageId: message.id,
        text: message.text,
        offline: message.offline,
        model: message.model,
        steps: message.tool_calls.map((call) => ({ ...call, running: false })),
        unverified: message.unverified_numbers,
        status: message.status,
        costUsd: message.cost_usd,
        error: message.error_code ? { code: message.error_code, message: message.error_message ?? '' } : null,
      }}
      at={message.completed_at ?? message.created_at}
    />
  );
}

function AnswerView({ answer, at }: { answer: StreamingAnswer; at?: string }) {
  return (
    <article className="message assistant" data-testid="answer" data-status={answer.status}>
      {answer.steps.length > 0 && (
        <ol className="steps" aria-label="Steps taken">
          {answer.steps.map((step) => (
            <li key={step.id}>
              <StepView step={step} />
            </li>
          ))}
        </ol>
      )}
      {answer.retry && (
        <p className="small muted" role="status">
          The model is busy ({answer.retry.reason}); retrying in {answer.retry.waitSeconds}s…
        </p>
      )}
      <div className="message-text">
        {answer.text ? (
          <MarkedText text={answer.text} unverified={answer.unverified} />
        ) : answer.status === 'streaming' ? (
          <span className="muted">Thinking…</span>
        ) : null}
      </div>
      {answer.error && (
        <p className="form-error" role="alert">
          The answer stopped: {answer.error.message}
        </p>
      )}
      <div className="message-meta">
        {answer.offline ? (
          <span className="badge offline">Offline assistant</span>
        ) : answer.model ? (
          <span>{answer.model}</span>
        ) : null}
        {answer.status !== 'streaming' && (
          <span data-testid="answer-cost">Cost {formatCost(answer.costUsd)}</span>
        )}
        {answer.unverified.length > 0 && (
          <span className="unverified-note">
            {answer.unverified.length} unverified number{answer.unverified.length > 1 ? 's' : ''} marked
          </span>
        )}
        {answer.status === 'streaming' && <span role="status">Writing…</span>}
        {at && <span>{formatTimestamp(at)}</span>}
      </div>
    </article>
  );
}

function StepView({ step }: { step: ToolStep }) {
  return (
    <details>
      <summary>
        {step.running ? '⏳' : step.is_error ? '⚠️' : '✓'} <code>{step.name}</code>
        {step.summary ? ` — ${step.summary}` : step.running ? ' — running…' : ''}
      </summary>
      <pre>{JSON.stringify(step.input, null, 2)}</pre>
      {step.as_of && <p className="small muted">Data as of {step.as_of}</p>}
      {step.ms !== undefined && <p className="small muted">{step.ms} ms</p>}
    </details>
  );
}
