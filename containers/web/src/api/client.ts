// One fetch wrapper for the JSON API: same-origin cookies, the CSRF double submit on
// state-changing requests, and the API's error shape turned into ApiError.
import type { components } from './schema';

export type Schemas = components['schemas'];

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  /** The whole error body: some errors carry more than the shape (a CSV import's report). */
  readonly payload?: unknown;

  constructor(status: number, code: string, message: string, field?: string, payload?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.payload = payload;
  }
}

const CSRF_COOKIE = 'csrf_token';
const CSRF_HEADER = 'X-CSRF-Token';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

let csrfRequest: Promise<string> | null = null;

/** The CSRF token: the readable cookie, fetched once from /api/auth/csrf when absent. */
export async function csrfToken(): Promise<string> {
  const existing = readCookie(CSRF_COOKIE);
  if (existing) return existing;
  csrfRequest ??= fetch('/api/auth/csrf', { credentials: 'same-origin' })
    .then(async (response) => {
      const body = (await response.json()) as Schemas['CsrfToken'];
      return readCookie(CSRF_COOKIE) ?? body.csrf_token;
    })
    .finally(() => {
      csrfRequest = null;
    });
  return csrfRequest;
}

/** An ApiError from a failed response, whatever its body. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    // not JSON: a proxy's page or an empty body
  }
  const error = (payload as Schemas['Error'] | null)?.error;
  if (error && typeof error.message === 'string') {
    return new ApiError(response.status, error.code, error.message, error.field, payload);
  }
  const message =
    response.status === 502 || response.status === 503 || response.status === 504
      ? 'The server is not reachable right now; try again in a moment.'
      : `The server answered ${response.status}.`;
  return new ApiError(response.status, `http_${response.status}`, message);
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

/** fetch() with the CSRF header and cookies; throws ApiError on a non-2xx answer. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = (options.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    headers['Content-Type'] = options.contentType;
  }
  if (STATE_CHANGING.has(method)) headers[CSRF_HEADER] = await csrfToken();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'Cannot reach the server; check your connection.');
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** A JSON request; resolves to the parsed body (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** The message of an error shown beside its field: without the field's name or pydantic's prefix. */
export function fieldMessage(error: ApiError): string {
  let message = error.message;
  if (error.field && message.startsWith(`${error.field}: `)) {
    message = message.slice(error.field.length + 2);
  }
  message = message.replace(/^Value error, /, '');
  return message.charAt(0).toUpperCase() + message.slice(1);
}
