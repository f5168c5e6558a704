// Translates AWS SDK errors (from AWS S3, MinIO, OSS's S3 API, ...) into StorageError kinds.
import { ArcaError, messageOf } from "../common/errors.js";
import { StorageError, type StorageAction, type StorageErrorKind } from "./errors.js";

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "InvalidSecurity",
  "SecurityTokenExpired",
  "CredentialsProviderError",
]);

function kindOf(e: SdkError, status: number | undefined): StorageErrorKind {
  const code = e.Code ?? e.name ?? "";
  const message = e.message ?? "";
  if (code === "AbortError") return "aborted";
  if (code === "TimeoutError" || e.code === "ETIMEDOUT" || code === "RequestTimeout") return "timeout";
  if ((e.code && NETWORK_CODES.has(e.code)) || NETWORK_CODES.has(code)) return "unreachable";
  if (CREDENTIAL_CODES.has(code)) return "bad-credentials";
  if (code === "NoSuchBucket") return "no-such-bucket";
  if (code === "NoSuchKey" || (code === "NotFound" && status === 404)) return "not-found";
  if (
    code === "AuthorizationHeaderMalformed" ||
    code === "PermanentRedirect" ||
    code === "IllegalLocationConstraintException" ||
    status === 301 ||
    /must be addressed using the specified endpoint|region is wrong|wrong region/i.test(message)
  ) {
    return "wrong-region";
  }
  if (code === "AccessDenied" || code === "AllAccessDisabled" || status === 403) return "access-denied";
  if (
    code === "SlowDown" ||
    code === "Throttling" ||
    code === "ConditionalRequestConflict" ||
    status === 429 ||
    status === 503
  ) {
    return "throttled";
  }
  if (code === "NotImplemented" || status === 501) return "unsupported";
  if (status !== undefined && status >= 500) return "server";
  if (status === 404) return "not-found";
  if (status === undefined) return "unreachable";
  return "invalid";
}

export function fromSdkError(
  err: unknown,
  action: StorageAction,
  location: string,
  key: string,
): StorageError {
  if (err instanceof StorageError) return err;
  // Our own credential chain (oss://) failed before any request was sent.
  if (err instanceof ArcaError) {
    return new StorageError("bad-credentials", action, location, key, err.message, {
      cause: err,
      hint: err.hint,
    });
  }
  if ((err as SdkError).name === "CredentialsProviderError") {
    return new StorageError("bad-credentials", action, location, key, "no credentials were found", {
      cause: err,
      hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is available",
    });
  }
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const kind = kindOf(e, status);
  const code = e.Code ?? e.name;
  const detail = [
    code && code !== "Error" ? code : undefined,
    status ? `HTTP ${status}` : undefined,
    messageOf(err),
  ]
    .filter(Boolean)
    .join(": ");
  const region = e.$response?.headers?.["x-amz-bucket-region"];
  const hint =
    kind === "wrong-region" && region
      ? `the bucket is in region ${region}: set region=${region} in the location URL`
      : undefined;
  return new StorageError(kind, action, location, key, detail, { status, cause: err, hint });
}
