// A loopback HTTP proxy in front of a real server, that injects the faults a network and a
// busy store produce: error bursts, slow answers, connections cut mid-request. The server
// behind it is real; only the faults are made up.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface FaultProxy {
  url: string;
  /** Requests that reached the proxy, faulty or not. */
  readonly requests: number;
  /** Answer the next `count` requests with this status and an S3 error body. */
  failNext(count: number, status?: number, code?: string): void;
  /** Hold every answer back this long (0 turns it off). */
  delay(ms: number): void;
  /**
   * Hold the requests that `match` picks this long before they reach the server (0 turns it
   * off): a write that lands late, so that others can run into it.
   */
  hold(ms: number, match?: (method: string, path: string) => boolean): void;
  /** While on, every connection is cut as it opens: a store that is down, and later back. */
  outage(on: boolean): void;
  /** Drop all connections and refuse new ones, as a server that stopped. */
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let failures: { count: number; status: number; code: string } = { count: 0, status: 503, code: "SlowDown" };
  let delayMs = 0;
  let held: { ms: number; match: (method: string, path: string) => boolean } = { ms: 0, match: () => true };
  let requests = 0;
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    if (failures.count > 0) {
      failures.count--;
      req.resume();
      res.writeHead(failures.status, { "Content-Type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${failures.code}</Code><Message>injected by the fault proxy</Message></Error>`,
      );
      return;
    }
    const go = () => {
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          const send = () => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          };
          if (delayMs > 0) setTimeout(send, delayMs);
          else send();
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    };
    if (held.ms > 0 && held.match(req.method ?? "", (req.url ?? "").split("?")[0] ?? ""))
      setTimeout(go, held.ms);
    else go();
  };

  const server: Server = createServer(handle);
  let down = false;
  server.on("connection", (s: Socket) => {
    if (down) return void s.destroy();
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fault proxy has no port");

  return {
    url: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests;
    },
    failNext(count, status = 503, code = status === 503 ? "SlowDown" : "InternalError") {
      failures = { count, status, code };
    },
    delay(ms) {
      delayMs = ms;
    },
    hold(ms, match = () => true) {
      held = { ms, match };
    },
    outage(on) {
      down = on;
      if (on) for (const s of sockets) s.destroy();
    },
    stop() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
