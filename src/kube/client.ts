// One cluster connection for the engines: raw JSON requests with one retry rule. Throttling
// (429) waits as long as the server asks; 5xx and dropped connections (an API server that
// restarts) back off and try again; everything else is the caller's to handle.
import { setMaxListeners } from "node:events";
import type { IncomingMessage } from "node:http";
import { ArcaError, messageOf } from "../common/errors.js";
import { accessFromKubeconfig, type KubeAccess } from "./config.js";
import { retrying, type RetryPolicy } from "../common/retry.js";
import {
  apiError,
  KubeApiError,
  kubeRequest,
  kubeStream,
  KubeUnreachableError,
  type KubeRequest,
  type KubeResponse,
  prepareAuth,
  type PreparedAuth,
} from "./transport.js";

/** Over half a minute of retries on average: long enough for an API server to restart. */
export const KUBE_RETRY: RetryPolicy = { attempts: 12, baseDelayMs: 500, maxDelayMs: 10_000 };

export interface KubeClientOptions {
  retry?: RetryPolicy;
  signal?: AbortSignal;
  /** Told about every wait, so that long stalls show up in the log. */
  onRetry?: (what: string, err: unknown, delayMs: number | undefined) => void;
}

export class KubeClient {
  readonly server: string;
  /** Requests answered 429 over this client's life; the engines lower concurrency on them. */
  throttled = 0;

  readonly access: KubeAccess;

  /**
   * `source` is the cluster access loadKubeConfig returns, or anything that prints a kubeconfig
   * (client-node's KubeConfig does, in tests and scripts).
   */
  constructor(
    source: KubeAccess | { exportConfig(): string },
    private readonly options: KubeClientOptions = {},
  ) {
    this.access =
      "exportConfig" in source
        ? accessFromKubeconfig([{ file: "(in memory)", text: source.exportConfig() }])
        : source;
    this.server = this.access.server;
    // Every request in flight listens on the signal: many at once is the design, not a leak.
    if (options.signal) setMaxListeners(0, options.signal);
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  private prepared: PreparedAuth | undefined;
  private preparedAt = 0;

  /** Credentials are worked out again every minute, so that expiring tokens are renewed. */
  private async auth(): Promise<PreparedAuth> {
    if (!this.prepared || Date.now() - this.preparedAt > 60_000) {
      this.prepared = await prepareAuth(this.access, this.prepared);
      this.preparedAt = Date.now();
    }
    return this.prepared;
  }

  /** Closes the pooled connections. */
  close(): void {
    this.prepared?.agent.destroy();
  }

  /** Sends a request, retrying throttling, 5xx and unreachable servers; returns any other answer. */
  request(what: string, req: Omit<KubeRequest, "signal">): Promise<KubeResponse> {
    const signal = this.options.signal;
    return retrying(
      this.options.retry ?? KUBE_RETRY,
      signal,
      (err) => {
        let decision: boolean | number = false;
        if (err instanceof KubeUnreachableError) decision = true;
        else if (err instanceof KubeApiError && (err.status === 429 || err.status >= 500)) {
          if (err.status === 429) this.throttled++;
          decision = err.retryAfter !== undefined ? err.retryAfter * 1000 : true;
        }
        if (decision !== false) this.options.onRetry?.(what, err, decision === true ? undefined : decision);
        return decision;
      },
      async () => {
        const res = await kubeRequest(this.access, { ...req, signal }, await this.auth());
        if (res.status === 429 || res.status >= 500) throw apiError(what, res);
        return res;
      },
    );
  }

  /** Opens a streaming GET (a watch), retried like any request until the server answers. */
  stream(what: string, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return retrying(
      this.options.retry ?? KUBE_RETRY,
      signal ?? this.options.signal,
      (err) =>
        err instanceof KubeUnreachableError ||
        (err instanceof KubeApiError && (err.status === 429 || err.status >= 500)),
      async () =>
        kubeStream(this.access, what, { path, signal: signal ?? this.options.signal }, await this.auth()),
    );
  }

  /** GETs JSON; undefined on 404; a KubeApiError naming `what` on any other failure. */
  async getJson<T>(what: string, path: string): Promise<T | undefined> {
    const res = await this.request(what, { path });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw apiError(what, res);
    return parseJson<T>(what, res.body);
  }
}

export function parseJson<T>(what: string, body: Buffer): T {
  try {
    return JSON.parse(body.toString("utf8")) as T;
  } catch (err) {
    throw new ArcaError(`${what}: the API server sent something that is not JSON (${messageOf(err)})`);
  }
}
