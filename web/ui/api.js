// The API client: bearer token from localStorage, JSON in and out, errors as ApiRequestError.

const TOKEN_KEY = 'fleetprobe.token';
export const API = '/api/v1';

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Saves the token (an empty string forgets it). */
export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts for this page only
  }
}

function headers(extra = {}) {
  const token = getToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/** An answer other than 2xx: `status` (0 for a network failure), `kind` (the API's `error`), `message`. */
export class ApiRequestError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.kind = kind;
  }
}

async function toError(res) {
  let kind = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && typeof body.message === 'string') message = body.message;
    if (body && typeof body.error === 'string') kind = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiRequestError(res.status, kind, message);
}

/**
 * Calls the API; `path` is relative to /api/v1, e.g. `/runs?limit=20`. Resolves to the parsed JSON body
 * (null for 204 No Content);
 * rejects with ApiRequestError (status 0 when the server did not answer) or the abort reason.
 * @param {string} path
 * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [opts]
 */
export async function api(path, opts = {}) {
  const init = { method: opts.method ?? 'GET', headers: headers({ accept: 'application/json' }) };
  if (opts.body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (opts.signal) init.signal = opts.signal;
  let res;
  try {
    res = await fetch(`${API}${path}`, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiRequestError(0, 'network', 'the server did not answer (network error)');
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return null; // e.g. DELETE: no body
  return res.json();
}

/** Builds a query string from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Reads a server-sent-events stream with fetch() (EventSource cannot send the Authorization header that the
 * API's SSE route needs). Calls `onEvent(event, data)` per frame with JSON data; resolves when the server
 * ends the stream, rejects with ApiRequestError on a non-2xx answer, with the abort reason on abort.
 * @param {string} path
 * @param {{signal: AbortSignal, onEvent: (event: string, data: unknown) => void}} opts
 */
export async function streamEvents(path, { signal, onEvent }) {
  let res;
  try {
    res = await fetch(`${API}${path}`, {
      headers: headers({ accept: 'text/event-stream' }),
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ApiRequestError(0, 'network', 'the event stream could not be opened');
  }
  if (!res.ok) throw await toError(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n?/g, '\n');
      let end = buf.indexOf('\n\n');
      while (end !== -1) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        let event = 'message';
        const data = [];
        for (const line of frame.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const val = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Downloads `path` (relative to /api/v1) as a file named `filename`. With no token the browser fetches the
 * URL itself (streamed to disk); with a token the answer is fetched with the Authorization header first.
 */
export async function download(path, filename, signal) {
  const a = document.createElement('a');
  a.download = filename;
  if (!getToken()) {
    a.href = `${API}${path}`;
    a.click();
    return;
  }
  const res = await fetch(`${API}${path}`, { headers: headers(), signal });
  if (!res.ok) throw await toError(res);
  const url = URL.createObjectURL(await res.blob());
  a.href = url;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Runs a form's write (`work`) with its submit button disabled; a refusal for want of a token with role operate
 * (401/403) or any other error is shown in `error`. Nothing is shown once `signal` aborted (the view is gone).
 */
export async function operateSubmit({ submit, error, signal }, work) {
  submit.disabled = true;
  try {
    await work();
  } catch (err) {
    if (signal.aborted) return;
    error.textContent =
      err.status === 401 || err.status === 403 ? 'An API token with role operate is needed.' : err.message;
  } finally {
    submit.disabled = false;
  }
}
