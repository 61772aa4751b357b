export { parseExpectStatus, type StatusMatcher } from './expect-status.js';
export { type HttpArgs, httpArgs } from './http-args.js';
export { type CertInfo, httpCheck } from './http-check.js';
export { buildRequest, hostHeaderFor, serverNameFor } from './request-writer.js';
export {
  BAD_RESPONSE_KINDS,
  BadResponseError,
  type BadResponseKind,
  DEFAULT_MAX_HEADER_BYTES,
  ResponseParser,
  type ResponseParserOptions,
} from './response-parser.js';
export { type TlsClient, tlsClientFor } from './tls-context.js';
