// Raw JSON over the client's authenticated transport. Backup and restore never go through the
// typed models (they drop unknown fields and rewrite timestamps): what the apiserver served
// is what we get, byte for byte.
import { Agent as HttpsAgent, request, type RequestOptions as HttpsRequestOptions } from "node:https";
import { request as httpRequest, type RequestOptions } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { ArcaError, messageOf } from "../common/errors.js";

export interface KubeRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path and query, e.g. /api/v1/namespaces/velero/secrets/x */
  path: string;
  body?: string | Buffer;
  contentType?: string;
  /** Accept header; JSON by default. */
  accept?: string;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class KubeApiError extends ArcaError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    hint?: string,
    /** Seconds the server asked us to wait (429, 503), if it said. */
    readonly retryAfter?: number,
  ) {
    super(message, { hint });
  }
}

/** The API server could not be reached or dropped the connection: a later attempt may work. */
export class KubeUnreachableError extends ArcaError {}

/** Credentials and a connection pool, worked out once and reused for many requests. */
export interface PreparedAuth {
  headers: Record<string, string>;
  auth?: string;
  agent: RequestOptions["agent"];
}

/**
 * client-node hands out a new agent per request, so every request would pay a TLS handshake
 * and re-read the key files. One keep-alive agent with the same TLS settings serves them all;
 * through a proxy, its agent is reused as it is.
 */
export async function prepareAuth(kc: KubeConfig, previous?: PreparedAuth): Promise<PreparedAuth> {
  const opts: HttpsRequestOptions & { headers: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  let agent = previous?.agent ?? opts.agent;
  if (!previous && opts.agent instanceof HttpsAgent && opts.agent.constructor === HttpsAgent) {
    agent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 64,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      servername: opts.servername,
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
    });
  }
  return { headers: opts.headers, ...(opts.auth ? { auth: opts.auth } : {}), agent };
}

export async function kubeRequest(
  kc: KubeConfig,
  req: KubeRequest,
  prepared?: PreparedAuth,
): Promise<KubeResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ArcaError("the kubeconfig names no current cluster");
  const url = new URL(req.path, cluster.server);
  const options: RequestOptions & { headers: Record<string, string> } = {
    method: req.method ?? "GET",
    headers: { ...prepared?.headers, Accept: req.accept ?? "application/json" },
    signal: req.signal,
  };
  if (req.body !== undefined) options.headers["Content-Type"] = req.contentType ?? "application/json";
  if (prepared) {
    options.agent = prepared.agent;
    if (prepared.auth) options.auth = prepared.auth;
  } else await kc.applyToHTTPSOptions(options);
  const send = url.protocol === "https:" ? request : httpRequest;
  const failed = (err: unknown) =>
    req.signal?.aborted
      ? err
      : new KubeUnreachableError(
          `${options.method} ${url.pathname} on ${cluster.server}: ${messageOf(err)}`,
          {
            cause: err,
            hint: "check that the cluster's API server is reachable from here (kubectl get ns)",
          },
        );
  return new Promise((resolve, reject) => {
    const r = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", (err) => reject(failed(err)));
    });
    r.on("error", (err) => reject(failed(err)));
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

/** Parses a Status object from an error response into a KubeApiError naming the request. */
export function apiError(what: string, res: KubeResponse): KubeApiError {
  let reason = "Unknown";
  let message = res.body.toString("utf8").slice(0, 500);
  try {
    const status = JSON.parse(res.body.toString("utf8")) as { reason?: string; message?: string };
    reason = status.reason ?? reason;
    message = status.message ?? message;
  } catch {
    // not a Status object; keep the raw text
  }
  const hint =
    res.status === 401
      ? "the kubeconfig's credentials were refused; log in again"
      : res.status === 403
        ? "the kubeconfig's identity lacks RBAC permission for this; ask for it or use another context"
        : undefined;
  const header = res.headers["retry-after"];
  const retryAfter = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : undefined;
  return new KubeApiError(
    res.status,
    reason,
    `${what}: HTTP ${res.status} ${reason}: ${message}`,
    hint,
    retryAfter,
  );
}
