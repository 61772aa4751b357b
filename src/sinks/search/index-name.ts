import { UsageError } from '../../core/errors.js';

/** The default index name pattern: one index per UTC day. */
export const DEFAULT_RESULTS_INDEX = 'fleetprobe-results-YYYY.MM.DD';

const TOKENS = /YYYY|MM|DD/g;
// Elasticsearch and OpenSearch index name rules (the server would refuse each document otherwise).
const FORBIDDEN = /[\\/*?"<>| ,#:A-Z]/;

/**
 * An index name pattern: literal text with `YYYY`, `MM` and `DD` replaced by the UTC date of each
 * document's timestamp (`fleetprobe-results-YYYY.MM.DD` -> `fleetprobe-results-2026.11.30`). Dating by the
 * document, not by the clock, keeps a retried or redelivered document in the index it was first sent to.
 */
export class IndexNamePattern {
  readonly pattern: string;
  readonly #dated: boolean;

  /** Throws `UsageError` naming `where` when no name this pattern yields can be a valid index name. */
  constructor(pattern: string, where = '--search-index-name') {
    const sample = pattern.replace(TOKENS, '0');
    const problem =
      sample.length === 0
        ? 'is empty'
        : Buffer.byteLength(sample) > 255
          ? 'is longer than 255 bytes'
          : FORBIDDEN.test(sample)
            ? 'may only hold lowercase letters, digits, ".", "-", "_", "+" and the tokens YYYY, MM, DD'
            : /^[-_+]/.test(sample)
              ? 'must not start with "-", "_" or "+"'
              : sample === '.' || sample === '..'
                ? 'must not be "." or ".."'
                : undefined;
    if (problem) throw new UsageError(`${where}: "${pattern}" ${problem}`);
    this.pattern = pattern;
    this.#dated = TOKENS.test(pattern);
    TOKENS.lastIndex = 0;
  }

  /** The index for a document with this timestamp (ISO-8601 or epoch ms; an invalid one dates to 1970-01-01). */
  nameFor(timestamp: string | number): string {
    if (!this.#dated) return this.pattern;
    const date = new Date(timestamp);
    const valid = Number.isFinite(date.getTime());
    const yyyy = valid ? String(date.getUTCFullYear()).padStart(4, '0') : '1970';
    const mm = valid ? String(date.getUTCMonth() + 1).padStart(2, '0') : '01';
    const dd = valid ? String(date.getUTCDate()).padStart(2, '0') : '01';
    return this.pattern.replace(TOKENS, (t) => (t === 'YYYY' ? yyyy : t === 'MM' ? mm : dd));
  }
}
