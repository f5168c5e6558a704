// Raw JSON over the client's authenticated transport. Backup and restore never go through the
// typed models (they drop unknown fields and rewrite timestamps): what the apiserver served
// is what we get, byte for byte.
import { Agent as HttpsAgent, request } from "node:https";
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { createSecureContext } from "node:tls";
import type { KubeAccess } from "./config.js";
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
  /** Where the body goes, instead of a buffer of its own (see BodyBuffer). */
  into?: BodyBuffer;
}

/**
 * A buffer lent for response bodies, reused from one response to the next and grown when one
 * is larger. A LIST page of 1-2 MiB in a fresh buffer each time cost 15% of a later backup's
 * CPU (large blocks are mapped fresh, faulted in and unmapped when freed, see
 * native/memory.c), and left the collector a page of garbage per request. The body is valid
 * until the buffer's next request: whoever lends one must be done with a body before then.
 *
 * Chunks are copied in as they arrive, so that each dies young: kept until the response
 * ended, a page's chunks outlived young-generation collections and waited in the old
 * generation for a full one.
 */
export class BodyBuffer {
  private buffer = Buffer.allocUnsafeSlow(0);
  private length = 0;

  /** Starts a body (an attempt that failed halfway is written over). */
  start(): void {
    this.length = 0;
  }

  append(chunk: Buffer): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.buffer.length * 2, 64 * 1024));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += chunk.copy(this.buffer, this.length);
  }

  /** The body so far: a view of this buffer. */
  get body(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
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
  agent: HttpsAgent | HttpAgent;
}

/**
 * One keep-alive agent per identity: a TLS handshake per request would cost more than many
 * requests do. A new client certificate (from an exec plugin) gets a new agent.
 */
export async function prepareAuth(
  access: KubeAccess,
  previous?: PreparedAuth & { cert?: Buffer },
): Promise<PreparedAuth & { cert?: Buffer }> {
  const credentials = await access.credentials();
  if (previous && sameBytes(previous.cert, credentials.cert))
    return { ...previous, headers: credentials.headers };
  previous?.agent.destroy();
  const tls = {
    ...(access.ca ? { ca: access.ca } : {}),
    ...(credentials.cert ? { cert: credentials.cert } : {}),
    ...(credentials.key ? { key: credentials.key } : {}),
  };
  const agent = access.server.startsWith("http:")
    ? new HttpAgent({ keepAlive: true, maxSockets: 64 })
    : new HttpsAgent({
        keepAlive: true,
        maxSockets: 64,
        ...tls,
        // One context for every connection: by default each one parses the CA and the key
        // again, half the CPU of a handshake (a backup opens about 25).
        secureContext: createSecureContext(tls),
        ...(access.servername ? { servername: access.servername } : {}),
        rejectUnauthorized: !access.insecure,
      });
  return { headers: credentials.headers, agent, ...(credentials.cert ? { cert: credentials.cert } : {}) };
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}

export async function kubeRequest(
  access: KubeAccess,
  req: KubeRequest,
  prepared?: PreparedAuth,
): Promise<KubeResponse> {
  const auth = prepared ?? (await prepareAuth(access));
  // Appended, not resolved: a server URL may carry a path prefix (a proxy, Rancher).
  const url = new URL(`${access.server}${req.path}`);
  const options: RequestOptions & { headers: Record<string, string> } = {
    method: req.method ?? "GET",
    headers: { ...auth.headers, Accept: req.accept ?? "application/json" },
    agent: auth.agent,
  };
  if (req.body !== undefined) options.headers["Content-Type"] = req.contentType ?? "application/json";
  const send = url.protocol === "https:" ? request : httpRequest;
  const failed = (err: unknown) =>
    req.signal?.aborted
      ? err
      : new KubeUnreachableError(`${options.method} ${url.pathname} on ${access.server}: ${messageOf(err)}`, {
          cause: err,
          hint: "check that the cluster's API server is reachable from here (kubectl get ns)",
        });
  let detach = () => {};
  try {
    return await new Promise((resolve, reject) => {
      const r = send(url, options, (res) => {
        const { into } = req;
        const chunks: Buffer[] = [];
        into?.start();
        res.on("data", (c: Buffer) => (into ? into.append(c) : chunks.push(c)));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: into ? into.body : Buffer.concat(chunks),
          }),
        );
        res.on("error", (err) => reject(failed(err)));
      });
      r.on("error", (err) => reject(failed(err)));
      detach = abortOn(req.signal, r);
      if (req.body !== undefined) r.end(req.body);
      else r.end();
    });
  } finally {
    detach();
    // A one-off request closes its own pool.
    if (!prepared) auth.agent.destroy();
  }
}

/**
 * Destroys `r` if `signal` aborts, until the returned function is called: as soon as the
 * response is in. Node's own `signal` option keeps a listener until the request closes, and
 * on the client's signal, which lives as long as the client, that held each response's chunks
 * into V8's old generation: a first backup of 100,000 objects peaked about 50 MiB higher.
 */
function abortOn(signal: AbortSignal | undefined, r: ClientRequest): () => void {
  if (!signal) return () => undefined;
  const abort = () => void r.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  if (signal.aborted) {
    abort();
    return () => undefined;
  }
  signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

/**
 * Opens a long response (a watch) and hands its body over as a stream; the caller reads it
 * until it ends or the signal aborts. Non-200 answers are read whole and thrown.
 */
export async function kubeStream(
  access: KubeAccess,
  what: string,
  req: KubeRequest,
  prepared: PreparedAuth,
): Promise<IncomingMessage> {
  const url = new URL(`${access.server}${req.path}`);
  return new Promise((resolve, reject) => {
    const r = (url.protocol === "https:" ? request : httpRequest)(
      url,
      {
        method: "GET",
        headers: { ...prepared.headers, Accept: "application/json" },
        agent: prepared.agent,
        signal: req.signal,
      },
      (res) => {
        if (res.statusCode === 200) return resolve(res);
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          reject(
            apiError(what, {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          ),
        );
        res.on("error", reject);
      },
    );
    r.on("error", (err) =>
      reject(
        req.signal?.aborted
          ? err
          : new KubeUnreachableError(`${what} on ${access.server}: ${messageOf(err)}`, { cause: err }),
      ),
    );
    r.end();
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
