import { isIPv4, isIPv6 } from 'node:net';
import type { Result } from '../../engine/result.js';

/** What a probe adds to its result for the exposition: the time spent resolving the target's name. */
export interface ProbeTimings {
  /** Seconds spent resolving the target's name (0 for an address). */
  readonly dnsLookupSeconds: number;
}

/** Writes gauges in the Prometheus text format (0.0.4), HELP and TYPE once per family. */
class GaugeWriter {
  readonly #lines: string[] = [];
  #last = '';

  gauge(name: string, help: string, value: number, labels?: Readonly<Record<string, string>>): this {
    if (name !== this.#last) {
      this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      this.#last = name;
    }
    const l = labels
      ? `{${Object.entries(labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}}`
      : '';
    this.#lines.push(`${name}${l} ${Number.isFinite(value) ? value : 0}`);
    return this;
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const seconds = (ms: number | undefined): number => (ms !== undefined && ms > 0 ? ms / 1000 : 0);

/**
 * Whether a probe counts as a success, as blackbox_exporter judges it: the check passed, and (http) the
 * body was read to its end. blackbox reads the whole body and fails when it does not end within the
 * timeout; fleetprobe stops at `maxBytes`, so a body cut there is a failed probe (as with blackbox's
 * `body_size_limit`).
 */
export function probeSucceeded(result: Result): boolean {
  return result.status === 'pass' && result.data.truncated !== true;
}

/**
 * The series blackbox_exporter users alert on, with blackbox's names and meanings, from one result:
 * always `probe_success`, `probe_duration_seconds`, `probe_dns_lookup_time_seconds`, `probe_ip_protocol`;
 * `http`: `probe_http_duration_seconds{phase}`, `probe_http_status_code`, `probe_http_content_length`,
 * `probe_http_uncompressed_body_length`, `probe_http_redirects`, `probe_http_ssl`,
 * `probe_ssl_earliest_cert_expiry` (the earliest notAfter of the certificate chain);
 * `dns`: `probe_dns_duration_seconds{phase}`, `probe_dns_answer_rrs`, `probe_dns_authority_rrs`.
 * `fleetprobe_probe_status{status}` adds our own verdict (pass, fail, error, timeout).
 */
export function renderProbeSeries(result: Result, timings: ProbeTimings): string {
  const w = new GaugeWriter();
  const data = result.data;
  const address = typeof data.address === 'string' ? data.address : result.target;
  w.gauge(
    'probe_dns_lookup_time_seconds',
    'Returns the time taken for probe dns lookup in seconds',
    timings.dnsLookupSeconds,
  );
  if (result.check === 'http') renderHttp(w, data, timings);
  if (result.check === 'dns') renderDns(w, data, timings);
  w.gauge(
    'probe_ip_protocol',
    'Specifies whether probe ip protocol is IP4 or IP6',
    isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0,
  );
  w.gauge(
    'probe_duration_seconds',
    'Returns how long the probe took to complete in seconds',
    result.durationMs / 1000,
  );
  w.gauge('probe_success', 'Displays whether or not the probe was a success', probeSucceeded(result) ? 1 : 0);
  w.gauge(
    'fleetprobe_probe_status',
    "fleetprobe's verdict on the probe: 1 for its status (pass, fail, error, timeout, cancelled)",
    1,
    { status: result.status },
  );
  return w.text();
}

function renderHttp(w: GaugeWriter, data: Record<string, unknown>, timings: ProbeTimings): void {
  const connectMs = num(data.connectMs);
  const tlsMs = num(data.tlsMs);
  const ttfbMs = num(data.ttfbMs);
  const totalMs = num(data.totalMs);
  const transferMs =
    ttfbMs !== undefined && ttfbMs >= 0 && totalMs !== undefined
      ? totalMs - Math.max(0, connectMs ?? 0) - Math.max(0, tlsMs ?? 0) - ttfbMs
      : 0;
  const help = 'Duration of http request by phase, summed over all redirects';
  w.gauge('probe_http_duration_seconds', help, timings.dnsLookupSeconds, { phase: 'resolve' });
  w.gauge('probe_http_duration_seconds', help, seconds(connectMs), { phase: 'connect' });
  w.gauge('probe_http_duration_seconds', help, seconds(tlsMs), { phase: 'tls' });
  w.gauge('probe_http_duration_seconds', help, seconds(ttfbMs), { phase: 'processing' });
  w.gauge('probe_http_duration_seconds', help, seconds(transferMs), { phase: 'transfer' });
  const answered = num(data.status) !== undefined;
  w.gauge('probe_http_status_code', 'Response HTTP status code', num(data.status) ?? 0);
  w.gauge(
    'probe_http_content_length',
    'Length of http content response',
    answered ? (num(data.contentLength) ?? -1) : 0,
  );
  w.gauge(
    'probe_http_uncompressed_body_length',
    'Length of uncompressed response body',
    answered ? (num(data.bytes) ?? 0) : 0,
  );
  w.gauge('probe_http_redirects', 'The number of redirects', 0);
  w.gauge('probe_http_ssl', 'Indicates if SSL was used for the final redirect', tlsMs !== undefined ? 1 : 0);
  const cert = data.cert as { earliestValidTo?: unknown } | undefined;
  const validTo = typeof cert?.earliestValidTo === 'string' ? Date.parse(cert.earliestValidTo) : Number.NaN;
  if (Number.isFinite(validTo)) {
    w.gauge(
      'probe_ssl_earliest_cert_expiry',
      'Returns last SSL chain expiry in unixtime',
      Math.floor(validTo / 1000),
    );
  }
}

function renderDns(w: GaugeWriter, data: Record<string, unknown>, timings: ProbeTimings): void {
  const help = 'Duration of DNS request by phase';
  w.gauge('probe_dns_duration_seconds', help, timings.dnsLookupSeconds, { phase: 'resolve' });
  w.gauge('probe_dns_duration_seconds', help, 0, { phase: 'connect' });
  w.gauge('probe_dns_duration_seconds', help, seconds(num(data.rttMs)), { phase: 'request' });
  const answers = Array.isArray(data.answers) ? data.answers.length : 0;
  w.gauge('probe_dns_answer_rrs', 'Returns number of entries in the answer resource record list', answers);
  w.gauge(
    'probe_dns_authority_rrs',
    'Returns number of entries in the authority resource record list',
    num(data.authorityCount) ?? 0,
  );
}
