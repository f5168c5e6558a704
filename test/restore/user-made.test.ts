// A restore brings back what the user made, on the real cluster: backup, delete, restore,
// compare. The Endpoints of a Service without a selector (how an application points at an
// external database) and an EndpointSlice the user wrote come back, while those the cluster's
// controllers make are left to them. A node port the user chose is kept; one the API server
// allocated is allocated anew, unless the restore preserves node ports.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Service } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.js";
import type { Repository } from "../../src/repo/repository.js";
import { runRestore } from "../../src/restore/engine.js";
import type { ItemResult } from "../../src/restore/layout.js";
import { DEFAULT_RESTORE_SPEC, type RestoreSpec } from "../../src/restore/spec.js";
import { forEndpoints, forEndpointSlice, forNamespace, forService } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { backUp, createObjects, scratchRepository } from "../support/backup.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";

const SLICES = "endpointslices.discovery.k8s.io";
const MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
const MIRRORING = "endpointslicemirroring-controller.k8s.io";
const SERVICE_NAME = "kubernetes.io/service-name";
/** An address of TEST-NET-1: the database outside the cluster. */
const DATABASE = "192.0.2.10";

describe("a restore brings back what the user made", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;
  let repo: Repository;
  let removeRepo: () => void;
  const ns = uniqueName("own");
  const other = `${ns}-other`;
  /** The node port the user chose for port 80 of Service "shop"; 443's is allocated. */
  let chosen = 0;
  let allocated = 0;
  let n = 0;
  const restore = (spec: Partial<RestoreSpec> = {}) =>
    runRestore({
      name: `r${++n}`,
      spec: { ...DEFAULT_RESTORE_SPEC, backup: "base", ...spec },
      repo,
      client: new KubeClient(kc),
    });
  const outcomeOf = (items: ItemResult[], resource: string, name: string) => {
    const item = items.find((i) => i.resource === resource && i.name === name);
    return item && (item.reason ? `${item.outcome}: ${item.reason}` : item.outcome);
  };
  const slicesOf = async (service: string) =>
    (
      await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: `${SERVICE_NAME}=${service}`,
      })
    ).items;
  const nodePorts = async (namespace: string, name: string) => {
    const service = await core.readNamespacedService({ name, namespace });
    return Object.fromEntries((service.spec?.ports ?? []).map((p) => [p.port, p.nodePort]));
  };
  const deleted = async (what: string, remove: () => Promise<unknown>, read: () => Promise<unknown>) => {
    await remove();
    await eventually(
      `${what} gone`,
      async () =>
        read().then(
          () => false,
          (err) => statusOf(err) === 404,
        ),
      120_000,
    );
  };
  /** A NodePort Service whose user chose port 80's node port and left 443's to the server. */
  const shop = (port: number): V1Service =>
    forService(ns, "shop")
      .selector({ app: "shop" })
      .type("NodePort")
      .port(80, 8080)
      .nodePort(80, port)
      .port(443, 8443)
      .result();

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    ({ repo, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [
      forNamespace(ns).result(),
      forNamespace(other).result(),
      forService(ns, "orders-db").withoutSelector().port(5432).result(),
      forEndpoints(ns, "orders-db").address(DATABASE).port(5432).result(),
      forService(ns, "cache").withoutSelector().port(6379).result(),
      forEndpointSlice(ns, "cache-1", "cache").address("192.0.2.20").port(6379).result(),
      forService(ns, "web").selector({ app: "web" }).port(80, 8080).result(),
    ]);
    // The default node-port range is shared with the other tests: try another if one is taken.
    for (let attempt = 0; !chosen; attempt++) {
      const port = randomInt(30000, 32768);
      try {
        await createObjects(kc, [shop(port)]);
        chosen = port;
      } catch (err) {
        if (statusOf(err) !== 422 || attempt >= 5) throw err;
      }
    }
    allocated = (await nodePorts(ns, "shop"))[443] ?? 0;
    assert.ok(allocated > 0, "the API server allocated port 443's node port");
    // What the controllers make, so that the backup holds it: the selecting Service's
    // Endpoints and slice, and the slice mirrored from the user's Endpoints.
    await eventually("the controllers' endpoints", async () => {
      const web = await core.readNamespacedEndpoints({ name: "web", namespace: ns }).catch(() => undefined);
      return (
        web !== undefined && (await slicesOf("web")).length > 0 && (await slicesOf("orders-db")).length > 0
      );
    });
    const outcome = await backUp(kc, repo, "base", { includeNamespaces: [ns] });
    assert.equal(outcome.record.status.phase, "Completed");
  });

  after(async () => {
    repo?.close();
    removeRepo?.();
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await core?.deleteNamespace({ name: other }).catch(() => undefined);
    await env?.stop();
  });

  it("brings back the Endpoints of a Service without a selector and the user's EndpointSlices", async () => {
    const mirrored = (await slicesOf("orders-db")).map((s) => s.metadata?.name ?? "");
    const webSlices = (await slicesOf("web")).map((s) => s.metadata?.name ?? "");
    assert.equal((await slicesOf("orders-db"))[0]?.metadata?.labels?.[MANAGED_BY], MIRRORING);
    await deleted(
      `namespace ${ns}`,
      () => core.deleteNamespace({ name: ns }),
      () => core.readNamespace({ name: ns }),
    );

    const out = await restore();
    assert.equal(out.record.status.phase, "Completed", JSON.stringify(out.results.items));
    const { items } = out.results;
    assert.equal(outcomeOf(items, "endpoints", "orders-db"), "created");
    assert.equal(outcomeOf(items, SLICES, "cache-1"), "created");
    assert.equal(
      outcomeOf(items, "endpoints", "web"),
      "skipped: the endpoints controller recreates them from Services",
    );
    for (const name of webSlices)
      assert.equal(
        outcomeOf(items, SLICES, name),
        "skipped: the endpoint slice controller recreates them from Services",
      );
    for (const name of mirrored)
      assert.equal(
        outcomeOf(items, SLICES, name),
        "skipped: the endpoint slice mirroring controller recreates them from the restored Endpoints",
      );

    const endpoints = await core.readNamespacedEndpoints({ name: "orders-db", namespace: ns });
    assert.deepEqual(
      endpoints.subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((p) => p.port)]),
      [[[DATABASE], [5432]]],
    );
    const cache = await discovery.readNamespacedEndpointSlice({ name: "cache-1", namespace: ns });
    assert.deepEqual(
      cache.endpoints.map((e) => e.addresses),
      [["192.0.2.20"]],
    );
    assert.equal(cache.metadata?.labels?.[SERVICE_NAME], "cache");
    // The cluster's controllers take it from there: the Service's traffic reaches the database.
    await eventually("a slice mirrored from the restored Endpoints", async () => {
      const slices = await slicesOf("orders-db");
      return slices.some(
        (s) =>
          s.metadata?.labels?.[MANAGED_BY] === MIRRORING &&
          s.endpoints.some((e) => e.addresses.includes(DATABASE)),
      );
    });
    await eventually("the endpoints controller's own Endpoints for web", () =>
      core.readNamespacedEndpoints({ name: "web", namespace: ns }),
    );
  });

  it("keeps the node port the user chose, and lets the target allocate the one it allocated", async () => {
    // The deleted namespace took both ports with it; the restore gave port 443 a new one.
    assert.equal((await nodePorts(ns, "shop"))[80], chosen);
    const readShop = () => core.readNamespacedService({ name: "shop", namespace: ns });
    await deleted(
      "service shop",
      () => core.deleteNamespacedService({ name: "shop", namespace: ns }),
      readShop,
    );
    // Another application now holds the old allocated port: keeping it would fail the restore.
    await createObjects(kc, [
      forService(other, "blocker").type("NodePort").port(443).nodePort(443, allocated).result(),
    ]);

    const out = await restore({ includeResources: ["services"] });
    assert.equal(out.record.status.phase, "Completed", JSON.stringify(out.results.items));
    assert.equal(outcomeOf(out.results.items, "services", "shop"), "created");
    const ports = await nodePorts(ns, "shop");
    assert.equal(ports[80], chosen, "the chosen node port is kept");
    assert.ok(ports[443] && ports[443] !== allocated, `port 443 got a node port of its own: ${ports[443]}`);
  });

  it("keeps every node port with preserveNodePorts, and says which one is taken", async () => {
    const readShop = () => core.readNamespacedService({ name: "shop", namespace: ns });
    await deleted(
      "service shop",
      () => core.deleteNamespacedService({ name: "shop", namespace: ns }),
      readShop,
    );
    const taken = await restore({ includeResources: ["services"], preserveNodePorts: true });
    assert.equal(taken.record.status.phase, "PartiallyFailed");
    const shop = taken.results.items.find((i) => i.resource === "services" && i.name === "shop");
    assert.equal(shop?.outcome, "failed");
    assert.match(
      shop?.reason ?? "",
      new RegExp(`creating Service ${ns}/shop: .*${allocated}: provided port is already allocated`),
    );

    await deleted(
      "service blocker",
      () => core.deleteNamespacedService({ name: "blocker", namespace: other }),
      () => core.readNamespacedService({ name: "blocker", namespace: other }),
    );
    const out = await restore({ includeResources: ["services"], preserveNodePorts: true });
    assert.equal(out.record.status.phase, "Completed", JSON.stringify(out.results.items));
    assert.equal(outcomeOf(out.results.items, "services", "shop"), "created");
    assert.deepEqual(await nodePorts(ns, "shop"), { 80: chosen, 443: allocated });
  });
});
