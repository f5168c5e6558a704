// Storage failures, sorted into the few kinds an operator can act on. Drivers translate their
// backend's errors into these; retries and `location check` decide on the kind alone.
import { ArcaError } from "../common/errors.js";

export type StorageErrorKind =
  | "not-found" // the object does not exist
  | "no-such-bucket" // the bucket (or root directory) does not exist
  | "access-denied" // the credentials are valid but lack a permission
  | "bad-credentials" // unknown key id, wrong secret, expired token
  | "wrong-region" // the bucket lives elsewhere than the endpoint or region given
  | "unreachable" // DNS, refused or reset connections, the server went away
  | "timeout" // no answer in time
  | "throttled" // 429 / SlowDown / 503
  | "server" // 5xx other than throttling
  | "aborted" // the caller's AbortSignal fired
  | "invalid" // a request the backend can never accept (bad key, bad argument)
  | "unsupported"; // the backend lacks the feature

export type StorageAction = "put" | "get" | "head" | "list" | "delete";

export class StorageError extends ArcaError {
  readonly kind: StorageErrorKind;
  readonly action: StorageAction;
  readonly key: string;
  readonly status: number | undefined;
  /** Why it failed, without the action and location that the message adds. */
  readonly detail: string;

  constructor(
    kind: StorageErrorKind,
    action: StorageAction,
    location: string,
    key: string,
    detail: string,
    options: { status?: number; cause?: unknown; hint?: string } = {},
  ) {
    super(`${action} ${key === "" ? "(listing)" : key} at ${location}: ${detail}`, {
      cause: options.cause,
      hint: options.hint ?? defaultHint(kind),
    });
    this.kind = kind;
    this.detail = detail;
    this.action = action;
    this.key = key;
    this.status = options.status;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

const RETRYABLE = new Set<StorageErrorKind>(["unreachable", "timeout", "throttled", "server"]);

function defaultHint(kind: StorageErrorKind): string | undefined {
  switch (kind) {
    case "no-such-bucket":
      return "create the bucket, or correct its name in the location URL";
    case "access-denied":
      return "grant the permission to these credentials (`arca policy` prints the policy Arca needs)";
    case "bad-credentials":
      return "check the access key id and secret (or the role) that Arca uses for this location";
    case "wrong-region":
      return "set region= (and endpoint=) in the location URL to where the bucket lives";
    case "unreachable":
      return "check the endpoint address, DNS and network path (firewall, proxy) to the store";
    case "timeout":
      return "the store did not answer in time; check its health and the network, then retry";
    default:
      return undefined;
  }
}

export function isStorageError(err: unknown, kind?: StorageErrorKind): err is StorageError {
  return err instanceof StorageError && (kind === undefined || err.kind === kind);
}
