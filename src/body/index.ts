export {
  BODY_REJECT_STATUS,
  MAX_ECHO_CHARS,
  rejectTooLarge,
  type BodyCheckFailure,
  type BodyCheckResult,
  type BodyRejectReason,
  type BodyRejectStatus,
} from './body-result.js';
export { checkJsonContentType } from './content-type.js';
export { scanJson, type JsonScanOptions } from './json-scan.js';
export { decodeJsonBody, type JsonBodyOptions, type JsonBodyResult } from './decode-json-body.js';
