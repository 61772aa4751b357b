import { TargetParseError } from '../../core/errors.js';
import { parseTargetSpec } from '../../targets/spec.js';
import type { Target } from '../../targets/target.js';
import type { AllowList } from '../allow-list.js';
import { ApiError } from '../errors.js';

/** blackbox_exporter's `--timeout-offset` default: kept off Prometheus' scrape timeout for the response. */
export const SCRAPE_TIMEOUT_OFFSET_MS = 500;

/** What `?target=` means for a module's check: the target, and arguments it sets (an http URL's scheme, path). */
export interface ProbeTarget {
  readonly target: Target;
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * Parses `?target=` the way blackbox_exporter's probers read it:
 * - `http`: a URL (`https://host:8443/path?q`; without `scheme://`, the module's scheme), whose scheme and
 *   path become the `scheme` and `path` arguments and whose port (else 80/443) the target's port;
 * - any other check: `host`, `host:port`, `[v6]:port` (for `dns`, the server asked).
 * Under an allow-list the host must be an address inside it (403), as for an API run's targets.
 * @throws ApiError 400 (not one host) or 403.
 */
export function parseProbeTarget(check: string, text: string, allowList: AllowList | undefined): ProbeTarget {
  let hostPart = text;
  const args: Record<string, unknown> = {};
  if (check === 'http' && /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ApiError('bad_request', `query.target: "${text.slice(0, 120)}" is not a URL`);
    }
    const scheme = url.protocol.slice(0, -1);
    if (scheme !== 'http' && scheme !== 'https')
      throw new ApiError('bad_request', `query.target: scheme "${scheme}" is not http or https`);
    args.scheme = scheme;
    args.path = `${url.pathname}${url.search}`;
    // An IPv6 hostname keeps its brackets: `[::1]:443`.
    hostPart = `${url.hostname}:${url.port || (scheme === 'https' ? 443 : 80)}`;
  }
  let target: Target;
  try {
    const spec = parseTargetSpec(hostPart, 'query.target');
    if (spec.kind !== 'target')
      throw new ApiError('bad_request', `query.target: "${text.slice(0, 120)}" is a block; give one host`);
    const refusal = allowList?.refusal(spec);
    if (refusal) throw new ApiError('forbidden', `query.target: "${text.slice(0, 120)}" is ${refusal}`);
    target = spec.target;
  } catch (err) {
    if (err instanceof TargetParseError) throw new ApiError('bad_request', err.message, { cause: err });
    throw err;
  }
  return { target, args };
}

/**
 * The probe's deadline in ms, as blackbox_exporter computes it: Prometheus' `X-Prometheus-Scrape-Timeout-Seconds`
 * (absent: 120 s) less `offsetMs`, capped by the module's timeout; the module's timeout when the header
 * leaves nothing.
 * @throws ApiError 400 when the header is not a number.
 */
export function probeTimeoutMs(
  moduleTimeoutMs: number,
  header: string | string[] | undefined,
  offsetMs = SCRAPE_TIMEOUT_OFFSET_MS,
): number {
  const raw = Array.isArray(header) ? header[0] : header;
  let scrapeMs = 120_000;
  if (raw !== undefined && raw !== '') {
    const seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new ApiError(
        'bad_request',
        `header X-Prometheus-Scrape-Timeout-Seconds: "${raw.slice(0, 40)}" is not a number of seconds`,
      );
    if (seconds > 0) scrapeMs = seconds * 1000;
  }
  const maxMs = scrapeMs - offsetMs;
  return maxMs <= 0 || moduleTimeoutMs < maxMs ? moduleTimeoutMs : Math.floor(maxMs);
}
