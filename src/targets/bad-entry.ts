/**
 * Internal: a reason an entry is bad, thrown by the parsers and turned into a `TargetParseError` by the
 * caller that knows *where* (argument N, file:line). Building the `file:line` text only on failure keeps the
 * per-line cost of parsing millions of lines low.
 */
export class BadEntry extends Error {}
