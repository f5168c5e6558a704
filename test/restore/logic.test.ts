// The small pieces of the restore engine that need no cluster: patches, the comparison of a
// live object with the backup's, the transform, and concurrency that yields to throttling.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdaptiveSlots } from "../../src/common/slots.js";
import { differences } from "../../src/restore/compare.js";
import { applyJsonPatch, applyMergePatch } from "../../src/restore/json-patch.js";
import { parseModifiers } from "../../src/restore/modifiers.js";
import { neverRestored } from "../../src/restore/skip.js";
import { transformObject, type TransformOptions } from "../../src/restore/transform.js";
import type { KubeObject } from "../../src/kube/object.js";

const options: TransformOptions = {
  backup: "nightly",
  restore: "r1",
  namespaceMappings: new Map([["shop", "shop-copy"]]),
  storageClassMappings: new Map([["slow", "fast"]]),
  restoreStatus: false,
  preserveNodePorts: false,
};

describe("restore logic", () => {
  it("applies JSON patches in order and refuses a path that is not there", () => {
    const doc = { spec: { replicas: 3, ports: [{ port: 80 }] } };
    assert.deepEqual(
      applyJsonPatch(doc, [
        { op: "replace", path: "/spec/replicas", value: 1 },
        { op: "add", path: "/spec/ports/-", value: { port: 443 } },
        { op: "copy", from: "/spec/replicas", path: "/spec/min" },
        { op: "remove", path: "/spec/ports/0" },
      ]),
      { spec: { replicas: 1, ports: [{ port: 443 }], min: 1 } },
    );
    assert.equal(doc.spec.replicas, 3, "the input is left alone");
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "remove", path: "/spec/missing" }]),
      /path \/spec\/missing does not exist/,
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "test", path: "/spec/replicas", value: 2 }]),
      /test at \/spec\/replicas failed/,
    );
  });

  it("applies merge patches: null removes, objects merge, the rest replaces", () => {
    assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] }), {
      a: { c: 2, e: 3 },
      d: [2],
    });
  });

  it("reads Velero's modifier file, and names the rule that is wrong", () => {
    const rules = parseModifiers(
      "resourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: replace, path: /spec/x, value: '3'}]\n",
      "m.yaml",
    );
    assert.deepEqual(rules[0]?.patches, [{ op: "replace", path: "/spec/x", value: 3 }]);
    assert.throws(
      () => parseModifiers("resourceModifierRules:\n- conditions: {}\n", "m.yaml"),
      /m.yaml: rule 1: conditions.groupResource is required/,
    );
    assert.throws(() => parseModifiers("a: [", "m.yaml"), /m.yaml is not valid YAML/);
  });

  it("sees only fields the backup sets as differences", () => {
    const desired = { metadata: { name: "a", labels: { "arca.dev/restore": "r1" } }, data: { k: "v" } };
    const live = { metadata: { name: "a", uid: "u", labels: { other: "x" } }, data: { k: "v" }, status: {} };
    assert.deepEqual(differences(desired, live), []);
    assert.deepEqual(differences({ ...desired, data: { k: "w" } }, live), [
      { path: "/data/k", live: "v", desired: "w" },
    ]);
    assert.equal(differences({ spec: { list: [1, 2] } }, { spec: { list: [1] } })[0]?.path, "/spec/list");
  });

  it("transforms for a new home: server fields, allocations, mappings and labels", () => {
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop", uid: "u", resourceVersion: "9", ownerReferences: [] },
      spec: {
        clusterIP: "10.0.0.7",
        clusterIPs: ["10.0.0.7"],
        type: "NodePort",
        ports: [{ port: 80, nodePort: 30080 }],
      },
      status: { loadBalancer: {} },
    } as unknown as KubeObject;
    assert.deepEqual(transformObject("services", service, options), {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "web",
        namespace: "shop-copy",
        labels: { "arca.dev/backup": "nightly", "arca.dev/restore": "r1" },
      },
      spec: { type: "NodePort", ports: [{ port: 80 }] },
    });
    const headless = { ...service, spec: { clusterIP: "None", ports: [] } } as unknown as KubeObject;
    assert.equal(
      (transformObject("services", headless, options).spec as { clusterIP: string }).clusterIP,
      "None",
    );
    const pv = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv" },
      spec: { storageClassName: "slow", claimRef: { namespace: "shop", name: "data", uid: "old" } },
    } as unknown as KubeObject;
    assert.deepEqual(transformObject("persistentvolumes", pv, options).spec, {
      storageClassName: "fast",
      claimRef: { namespace: "shop-copy", name: "data" },
    });
  });

  it("never restores what the cluster makes itself, and says why", () => {
    const object = (kind: string, name: string, extra: object = {}) =>
      ({ apiVersion: "v1", kind, metadata: { name, namespace: "shop" }, ...extra }) as unknown as KubeObject;
    assert.match(
      neverRestored("secrets", object("Secret", "token", { type: "kubernetes.io/service-account-token" })) ??
        "",
      /minted by the target cluster/,
    );
    assert.equal(neverRestored("secrets", object("Secret", "password", { type: "Opaque" })), undefined);
    assert.match(neverRestored("nodes", object("Node", "n1")) ?? "", /belong to the cluster/);
    assert.match(neverRestored("backups.arca.dev", object("Backup", "b")) ?? "", /Arca's own objects/);
    assert.equal(neverRestored("widgets.demo.arca.dev", object("Widget", "w")), undefined);
  });

  it("keeps the node ports the user chose, by field manager or last-applied, and drops allocated ones", () => {
    const service = (metadata: object) =>
      ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: "shop", ...metadata },
        spec: {
          type: "LoadBalancer",
          healthCheckNodePort: 31999,
          ports: [
            { port: 80, protocol: "TCP", nodePort: 30080 },
            { port: 53, protocol: "UDP", nodePort: 30053 },
          ],
        },
      }) as unknown as KubeObject;
    const portsOf = (o: KubeObject) => (o as unknown as { spec: object }).spec;
    // As the API server records a create that named port 80's nodePort: the rest it allocated.
    const byManager = service({
      managedFields: [
        {
          manager: "kubectl-create",
          operation: "Update",
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:spec": {
              "f:type": {},
              "f:ports": {
                ".": {},
                'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:nodePort": {}, "f:port": {} },
                'k:{"port":53,"protocol":"UDP"}': { ".": {}, "f:port": {}, "f:protocol": {} },
              },
            },
          },
        },
      ],
    });
    assert.deepEqual(portsOf(transformObject("services", byManager, options)), {
      type: "LoadBalancer",
      ports: [
        { port: 80, protocol: "TCP", nodePort: 30080 },
        { port: 53, protocol: "UDP" },
      ],
    });
    const lastApplied = JSON.stringify({
      spec: { healthCheckNodePort: 31999, ports: [{ port: 53, protocol: "UDP", nodePort: 30053 }] },
    });
    const byAnnotation = service({
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied },
    });
    assert.deepEqual(portsOf(transformObject("services", byAnnotation, options)), {
      type: "LoadBalancer",
      healthCheckNodePort: 31999,
      ports: [
        { port: 80, protocol: "TCP" },
        { port: 53, protocol: "UDP", nodePort: 30053 },
      ],
    });
    const unknown = service({ annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{" } });
    assert.deepEqual(portsOf(transformObject("services", unknown, options)), {
      type: "LoadBalancer",
      ports: [
        { port: 80, protocol: "TCP" },
        { port: 53, protocol: "UDP" },
      ],
    });
    assert.deepEqual(
      portsOf(transformObject("services", service({}), { ...options, preserveNodePorts: true })),
      portsOf(service({})),
    );
  });

  it("restores Endpoints and EndpointSlices that no controller manages, and skips the rest", () => {
    const object = (kind: string, labels: Record<string, string> = {}, extra: object = {}) =>
      ({
        apiVersion: "v1",
        kind,
        metadata: { name: "db", namespace: "shop", labels },
        ...extra,
      }) as KubeObject;
    const selectorless = object("Service", {}, { spec: { ports: [{ port: 5432 }] } });
    const selecting = object("Service", {}, { spec: { selector: { app: "db" } } });
    assert.equal(neverRestored("endpoints", object("Endpoints"), { service: selectorless }), undefined);
    assert.equal(neverRestored("endpoints", object("Endpoints")), undefined, "no Service in the backup");
    assert.match(
      neverRestored("endpoints", object("Endpoints"), { service: selecting }) ?? "",
      /endpoints controller recreates them/,
    );
    const labelled = object("Endpoints", { "endpoints.kubernetes.io/managed-by": "endpoint-controller" });
    assert.match(neverRestored("endpoints", labelled) ?? "", /endpoints controller recreates them/);
    const slice = (managedBy?: string) =>
      object("EndpointSlice", managedBy ? { "endpointslice.kubernetes.io/managed-by": managedBy } : {});
    const slices = "endpointslices.discovery.k8s.io";
    assert.equal(neverRestored(slices, slice()), undefined);
    assert.equal(neverRestored(slices, slice("staff.example.test")), undefined);
    assert.equal(neverRestored(slices, slice("constructor")), undefined);
    assert.match(
      neverRestored(slices, slice("endpointslice-controller.k8s.io")) ?? "",
      /endpoint slice controller recreates them from Services/,
    );
    assert.match(
      neverRestored(slices, slice("endpointslicemirroring-controller.k8s.io")) ?? "",
      /mirroring controller recreates them from the restored Endpoints/,
    );
  });

  it("halves its concurrency when throttled and grows it back while things go well", async () => {
    const slots = new AdaptiveSlots(8, 16);
    slots.throttled();
    assert.equal(slots.limit, 4);
    for (let i = 0; i < 4; i++) slots.succeeded();
    assert.equal(slots.limit, 5);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        slots.run(async () => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    assert.equal(peak, 5);
  });
});
