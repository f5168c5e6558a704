// Plain HTTP(S) probes used while servers come up, before any client library is involved.
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** For self-signed serving certificates that the test does not hold (controller manager). */
  insecure?: boolean;
}

export function httpGet(
  url: string,
  tls: TlsFiles = {},
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const options = {
      method: "GET",
      timeout: timeoutMs,
      ca: tls.ca ? readFileSync(tls.ca) : undefined,
      cert: tls.cert ? readFileSync(tls.cert) : undefined,
      key: tls.key ? readFileSync(tls.key) : undefined,
      rejectUnauthorized: !tls.insecure,
    };
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs}ms`)));
    req.on("error", reject);
    req.end();
  });
}
