// The raw transport against a local HTTP server (127.0.0.1) that answers the way a busy API
// server can: a body in many small chunks, a connection dropped halfway, no answer at all.
// The cluster suites cover the real API server; these are the cases it cannot be made to show.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { getEventListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import { KubeClient } from "../../src/kube/client.js";
import type { KubeAccess } from "../../src/kube/config.js";
import { BodyBuffer } from "../../src/kube/transport.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const body = (n: number, fill: string) => Buffer.alloc(n, fill);

/** Writes `data` in `pieces` chunks with a pause between them, as a slow LIST arrives. */
async function trickle(res: ServerResponse, data: Buffer, pieces: number): Promise<void> {
  res.writeHead(200, { "Content-Type": "application/json" });
  const size = Math.ceil(data.length / pieces);
  for (let at = 0; at < data.length; at += size) {
    res.write(data.subarray(at, at + size));
    await sleep(2);
  }
  res.end();
}

describe("kube transport", () => {
  let server: Server;
  let handler: Handler = (_req, res) => void res.end("{}");
  let access: KubeAccess;

  before(async () => {
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    access = {
      context: "local",
      server: `http://127.0.0.1:${port}`,
      insecure: false,
      credentials: async () => ({ headers: {} }),
    };
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("reads a body that arrives in many chunks into a lent buffer, and reuses it", async () => {
    const client = new KubeClient(access);
    const into = new BodyBuffer();
    try {
      handler = (_req, res) => trickle(res, body(300_000, "a"), 40);
      const first = await client.request("reading a large page", { path: "/big", into });
      assert.equal(first.status, 200);
      assert.ok(first.body.equals(body(300_000, "a")));
      // A smaller body next: the same buffer, holding only the new bytes.
      handler = (_req, res) => trickle(res, body(1000, "b"), 3);
      const second = await client.request("reading a small page", { path: "/small", into });
      assert.ok(second.body.equals(body(1000, "b")));
      assert.equal(second.body.buffer, first.body.buffer, "the lent buffer was not reused");
    } finally {
      client.close();
    }
  });

  it("retries a body cut off halfway, and keeps none of the failed attempt's bytes", async () => {
    const client = new KubeClient(access, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const into = new BodyBuffer();
    let attempts = 0;
    try {
      handler = (_req, res) => {
        if (++attempts === 1) {
          // Chunked, so the client cannot know the body is short: the socket just goes.
          res.writeHead(200, { "Content-Type": "application/json" });
          res.write(body(50_000, "x"));
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        return trickle(res, body(20_000, "y"), 4);
      };
      const res = await client.request("reading a page", { path: "/cut", into });
      assert.equal(attempts, 2);
      assert.ok(res.body.equals(body(20_000, "y")), "bytes of the cut-off attempt are in the body");
    } finally {
      client.close();
    }
  });

  it("stops a request in flight when the client's signal aborts, and leaves no listener behind", async () => {
    const controller = new AbortController();
    const client = new KubeClient(access, { signal: controller.signal });
    try {
      handler = (_req, res) => trickle(res, body(10_000, "c"), 5);
      for (let i = 0; i < 5; i++) await client.request("reading a page", { path: `/page-${i}` });
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);

      // Headers and part of the body, then nothing: a server that hangs mid-LIST.
      handler = (_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"items":[');
      };
      const hanging = client.request("reading a page that never ends", { path: "/hang" });
      setTimeout(() => controller.abort(new Error("operator pressed Ctrl-C")), 100);
      // Settled or not within 5 s: a request the signal did not reach would wait for ever.
      const late = sleep(5000, "still waiting", { ref: false });
      await assert.rejects(Promise.race([hanging, late]), /operator pressed Ctrl-C/);
    } finally {
      client.close();
    }
  });
});
