import {
  type ApiKeyAuth,
  type BaseConnection,
  type BearerAuth,
  Client,
  SniffingTransport,
  type TransportOptions,
} from '@elastic/elasticsearch';
import { UsageError } from '../../core/errors.js';

type Auth = { username: string; password: string } | ApiKeyAuth | BearerAuth;

/** Where the search index lives: the node URL (credentials removed) and how to authenticate. */
export interface SearchIndexTarget {
  /** `http(s)://host:port[/path]`, without userinfo (safe to log). */
  readonly node: string;
  readonly auth?: Auth;
}

/**
 * `--search-index <url>`: an http(s) URL of an Elasticsearch or OpenSearch node. Credentials come from the
 * URL's userinfo (`https://user:pass@host:9200`) or from `authEnv` (env FLEETPROBE_SEARCH_AUTH):
 * `user:password`, `ApiKey <base64 id:key>` or `Bearer <token>`; not both. Throws `UsageError` naming `flag`.
 */
export function parseSearchIndexUrl(
  text: string,
  authEnv: string | undefined,
  flag = '--search-index',
): SearchIndexTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: "${text}" is not a URL (e.g. http://127.0.0.1:9200)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag}: "${url.protocol}" is not http: or https:`);
  }
  const fromUrl = url.username !== '' || url.password !== '';
  const env = authEnv?.trim() ? authEnv.trim() : undefined;
  if (fromUrl && env) {
    throw new UsageError(
      `${flag}: credentials are in both the URL and FLEETPROBE_SEARCH_AUTH; give them once`,
    );
  }
  let auth: Auth | undefined;
  if (fromUrl) {
    auth = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
  } else if (env) {
    auth = parseAuth(env);
  }
  const node = url.toString().replace(/\/$/, '');
  return auth ? { node, auth } : { node };
}

function parseAuth(text: string): Auth {
  const m = /^(ApiKey|Bearer)\s+(\S+)$/i.exec(text);
  if (m) return m[1]!.toLowerCase() === 'apikey' ? { apiKey: m[2]! } : { bearer: m[2]! };
  const colon = text.indexOf(':');
  // The value is a secret: never echoed.
  if (colon <= 0) {
    throw new UsageError(
      'FLEETPROBE_SEARCH_AUTH: expected "user:password", "ApiKey <key>" or "Bearer <token>"',
    );
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The official client's transport, speaking plain `application/json` / `application/x-ndjson` and without
 * the client's product check. The 9.x client otherwise asks for `compatible-with=9` media types and refuses
 * any answer without `x-elastic-product: Elasticsearch`: OpenSearch rejects the first and never sends the
 * second. Elasticsearch accepts the plain media types. Both settings are public `TransportOptions`.
 */
export class PlainMediaTransport extends SniffingTransport {
  constructor(opts: TransportOptions) {
    super({ ...opts, productCheck: undefined, vendoredHeaders: undefined });
  }
}

export interface SearchClientOptions {
  /** Per-request timeout in ms (default 30 000). */
  requestTimeoutMs?: number;
  /** The connection class (tests: `@elastic/elasticsearch-mock`'s `getConnection()`); default the client's. */
  Connection?: typeof BaseConnection;
}

/**
 * A client for the sink. The transport's own retries are off (`maxRetries: 0`): the sink's retry policy is
 * the only one, with backoff, for 429, 5xx and connection errors alike (the transport retries 502-504 at once,
 * without waiting, and never 429 or 500).
 */
export function createSearchClient(target: SearchIndexTarget, opts: SearchClientOptions = {}): Client {
  const options: ConstructorParameters<typeof Client>[0] = {
    node: target.node,
    auth: target.auth,
    maxRetries: 0,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    Transport: PlainMediaTransport,
    enableMetaHeader: false,
  };
  // Only when given: the client takes an explicit `Connection: undefined` over its default.
  if (opts.Connection) options.Connection = opts.Connection;
  return new Client(options);
}
