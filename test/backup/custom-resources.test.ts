// Custom resources: stored at their preferred version (and every version with --all-versions),
// they bring their CRD along, and a CRD deleted in the middle of a backup is a warning.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Repository } from "../../src/repo/repository.js";
import { forCrd, forCustomObject, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import {
  backUp,
  createObjects,
  HookedClient,
  scratchRepository,
  storedItems,
  storedJson,
  within,
} from "../support/backup.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";

describe("custom resources in a backup", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let repo: Repository;
  let removeRepo: () => void;
  const ns = uniqueName("crs");
  const group = `${uniqueName("g")}.arca.test`;
  const crd = `gizmos.${group}`;

  const defineGizmos = async () => {
    await createObjects(kc, [forCrd(group, "Gizmo").alsoServe("v2").result()]);
    await eventually(`CRD ${crd} Established`, async () => {
      const got = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: crd });
      return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    });
  };

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    ({ repo, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [forNamespace(ns).result()]);
    await defineGizmos();
    await createObjects(kc, [
      forCustomObject(`${group}/v1`, "Gizmo", ns, "small")
        .spec({ size: 1, nested: { free: ["form"] } })
        .result(),
      forCustomObject(`${group}/v2`, "Gizmo", ns, "large").spec({ size: 9 }).result(),
    ]);
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    await kc
      ?.makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
    await kc
      ?.makeApiClient(ApiextensionsV1Api)
      .deleteCustomResourceDefinition({ name: crd })
      .catch(() => undefined);
    await env?.stop();
  });

  it("stores the preferred version as served, and brings the CRD with auto", async () => {
    const outcome = await backUp(kc, repo, "preferred", { includeNamespaces: [ns] });
    const items = await storedItems(repo, outcome.snapshot);
    assert.deepEqual(
      within(items, [ns]).filter((i) => i.startsWith("gizmos")),
      [`${crd}/${ns}/large`, `${crd}/${ns}/small`],
    );
    assert.ok(items.includes(`customresourcedefinitions.apiextensions.k8s.io/${crd}`));
    assert.deepEqual(
      outcome.results.related.find((r) => r.name === crd),
      {
        resource: "customresourcedefinitions.apiextensions.k8s.io",
        namespace: undefined,
        name: crd,
        from: `${crd}/${ns}/large`,
        reason: "the definition of the custom resource",
      },
    );
    // v2 sorts above v1, so it is the preferred version; the stored object is the live one.
    const live = await kc
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group, version: "v2", namespace: ns, plural: "gizmos", name: "small" });
    const stored = await storedJson(repo, outcome.snapshot, `/resources/${crd}/namespaces/${ns}/small.json`);
    assert.deepEqual(stored, live);
  });

  it("stores every served version with --all-versions", async () => {
    const outcome = await backUp(kc, repo, "all-versions", { includeNamespaces: [ns], allVersions: true });
    const items = within(await storedItems(repo, outcome.snapshot), [ns]).filter((i) =>
      i.startsWith("gizmos"),
    );
    assert.deepEqual(items, [
      `${crd}/${ns}/large`,
      `${crd}/${ns}/small`,
      `${crd}/v1/${ns}/large`,
      `${crd}/v1/${ns}/small`,
    ]);
    const v1 = (await storedJson(
      repo,
      outcome.snapshot,
      `/resources/${crd}/v1/namespaces/${ns}/large.json`,
    )) as {
      apiVersion: string;
      spec: { size: number };
    };
    assert.equal(v1.apiVersion, `${group}/v1`);
    assert.equal(v1.spec.size, 9);
  });

  it("warns and goes on when a CRD is deleted mid-backup", async () => {
    const api = kc.makeApiClient(ApiextensionsV1Api);
    let deleted = false;
    const client = new HookedClient(kc, async (path) => {
      if (deleted || !path.includes(`/apis/${group}/`) || !path.includes("/gizmos?")) return;
      deleted = true;
      await api.deleteCustomResourceDefinition({ name: crd });
      await eventually(`CRD ${crd} gone`, async () =>
        api.readCustomResourceDefinition({ name: crd }).then(
          () => false,
          (err: unknown) => statusOf(err) === 404,
        ),
      );
    });
    const outcome = await backUp(kc, repo, "crd-deleted", { includeNamespaces: [ns] }, { client });
    assert.ok(deleted);
    assert.equal(outcome.record.status.phase, "Completed");
    assert.deepEqual(
      outcome.results.warnings.map((w) => [w.resource, w.namespace]),
      [[crd, ns]],
    );
    assert.match(outcome.results.warnings[0]?.message ?? "", /went away during the backup/);
    const items = within(await storedItems(repo, outcome.snapshot), [ns]);
    assert.ok(items.includes(`namespaces/${ns}`));
    assert.ok(!items.some((i) => i.startsWith("gizmos")));
  });
});
