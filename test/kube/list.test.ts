// Paginated lists whose pages are freed as the caller moves on (what a backup asks for): each
// item is whole while its page is current, and its memory is gone once the next is asked for.
// Against the real API server of test/env.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { joined } from "../../src/common/bytes.js";
import { KubeClient } from "../../src/kube/client.js";
import { discoverResources } from "../../src/kube/discovery.js";
import { listObjects, type ListedObject } from "../../src/kube/list.js";
import type { ApiResource } from "../../src/kube/resources.js";
import { forConfigMap, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { createObjects } from "../support/backup.js";
import { uniqueName } from "../support/wait.js";

describe("listing with pages released", () => {
  let env: TestEnvironment;
  let client: KubeClient;
  let configMaps: ApiResource;
  const ns = uniqueName("list");

  before(async () => {
    env = await testEnvironment();
    const kc = env.cluster.kubeConfig();
    // About 2 KiB each: a page of ten has memory of its own, not a slice of Node's small pool.
    await createObjects(kc, [
      forNamespace(ns).result(),
      ...Array.from({ length: 25 }, (_, i) =>
        forConfigMap(ns, `cm-${i}`)
          .data({ v: "x".repeat(2000) })
          .result(),
      ),
    ]);
    client = new KubeClient(kc);
    const { resources } = await discoverResources(client);
    configMaps = resources.find((r) => r.resource === "configmaps" && r.group === "") as ApiResource;
  });
  after(async () => {
    client?.close();
    await env?.stop();
  });

  const copies = async (release: boolean) => {
    const seen: string[] = [];
    const kept: ListedObject[] = [];
    for await (const page of listObjects(client, configMaps, {
      namespace: ns,
      limit: 10,
      releasePages: release,
    })) {
      for (const item of page) seen.push(Buffer.from(joined(item.bytes)).toString());
      kept.push(...page.slice(0, 1));
    }
    return { seen, kept };
  };

  it("reads every item whole, as a list that keeps its pages does", async () => {
    const [released, plain] = await Promise.all([copies(true), copies(false)]);
    assert.equal(released.seen.length, 26); // and kube-root-ca.crt
    assert.deepEqual(released.seen, plain.seen);
    assert.ok(released.seen.every((json) => JSON.parse(json).kind === "ConfigMap"));
  });

  it("frees each page once the next one is asked for, and only then", async () => {
    const { kept } = await copies(true);
    assert.equal(kept.length, 3);
    // A kept item of a page left behind has lost its bytes (all but the prefix that supplies
    // kind and apiVersion): nothing may keep one that long.
    const pageBytes = (item: ListedObject) => item.bytes.at(-1)?.length;
    assert.deepEqual(kept.map(pageBytes), [0, 0, 0]);
    const { kept: plain } = await copies(false);
    assert.ok(plain.every((item) => (pageBytes(item) ?? 0) > 2000));
  });
});
