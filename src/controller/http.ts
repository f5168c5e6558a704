// /metrics, /healthz and /readyz of `arca server` and `arca node-agent`. Bound where the
// operator says: loopback by default, all interfaces in the Pods (so Prometheus and the
// kubelet's probes reach it).
import { createServer, type Server } from "node:http";
import { ArcaError } from "../common/errors.js";
import type { Metrics } from "./metrics.js";

export interface Health {
  /** Ready: for the controller, the caches are filled and it leads or stands by; for the node agent, the pod directory can be read. */
  ready(): { ok: boolean; detail: string };
}

export function parseBindAddress(text: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  if (!m || Number(m[2]) > 65535)
    throw new ArcaError(`invalid bind address ${JSON.stringify(text)}`, {
      hint: "write it as host:port, e.g. 127.0.0.1:8085",
    });
  return { host: m[1] || "127.0.0.1", port: Number(m[2]) };
}

/** Serves any registry: the controller's Metrics, or the node agent's. */
export async function serveHttp(
  address: string,
  metrics: Pick<Metrics, "registry">,
  health: Health,
): Promise<Server> {
  const { host, port } = parseBindAddress(address);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    } else if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const { ok, detail } = health.ready();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(`${detail}\n`);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(
        new ArcaError(`serving metrics on ${address}: ${err.message}`, {
          hint: "choose another --metrics-bind-address",
        }),
      ),
    );
    server.listen(port, host, resolve);
  });
  return server;
}
