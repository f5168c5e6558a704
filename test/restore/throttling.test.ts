// A restore yields to a busy API server: API Priority and Fairness (a real priority level with
// a concurrency of a few, rejecting the rest with 429) throttles the restoring user, and every
// object still arrives.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.js";
import { runRestore } from "../../src/restore/engine.js";
import { DEFAULT_RESTORE_SPEC } from "../../src/restore/spec.js";
import type { Repository } from "../../src/repo/repository.js";
import { forConfigMap, forCustomObject, forNamespace } from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { backUp, createObjects, scratchRepository } from "../support/backup.js";
import { limitedUser } from "../support/users.js";
import { uniqueName } from "../support/wait.js";

const COUNT = 120;

describe("restore under API server throttling", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let repo: Repository;
  let removeRepo: () => void;
  const ns = uniqueName("apf");
  const level = uniqueName("arca-tiny");

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    ({ repo, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [
      forNamespace(ns).result(),
      ...Array.from({ length: COUNT }, (_, i) =>
        forConfigMap(ns, `cm-${i}`)
          .data({ i: String(i) })
          .result(),
      ),
    ]);
    await backUp(kc, repo, "many", { includeNamespaces: [ns], includeResources: ["configmaps"] });
    for (let i = 0; i < COUNT; i++)
      await kc.makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ name: `cm-${i}`, namespace: ns });
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const kind of ["FlowSchema", "PriorityLevelConfiguration"])
      await objects
        .delete({ apiVersion: "flowcontrol.apiserver.k8s.io/v1", kind, metadata: { name: level } })
        .catch(() => undefined);
    await kc
      ?.makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
    await env?.stop();
  });

  it("slows down on 429, honours Retry-After, and restores every object", async () => {
    const user = await limitedUser(kc, ns, [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"] }], {
      [ns]: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["create"] }],
    });
    const account = user.getCurrentUser()?.name ?? "";
    // Its own priority level, with the smallest share there is and no queue: the API server
    // runs a few of this user's requests at a time and answers the others 429.
    const flowcontrol = "flowcontrol.apiserver.k8s.io/v1";
    await createObjects(kc, [
      forCustomObject(flowcontrol, "PriorityLevelConfiguration", undefined, level)
        .spec({
          type: "Limited",
          limited: { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: "Reject" } },
        })
        .result(),
      forCustomObject(flowcontrol, "FlowSchema", undefined, level)
        .spec({
          priorityLevelConfiguration: { name: level },
          matchingPrecedence: 100,
          rules: [
            {
              subjects: [{ kind: "ServiceAccount", serviceAccount: { name: account, namespace: ns } }],
              resourceRules: [
                { verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true },
              ],
            },
          ],
        })
        .result(),
    ]);
    const client = new KubeClient(user);
    try {
      const out = await runRestore({
        name: "throttled",
        spec: { ...DEFAULT_RESTORE_SPEC, backup: "many", includeResources: ["configmaps"] },
        repo,
        client,
        concurrency: 32,
      });
      assert.equal(
        out.record.status.phase,
        "Completed",
        JSON.stringify(out.results.items.filter((i) => i.outcome === "failed").slice(0, 3)),
      );
      assert.equal(out.results.items.filter((i) => i.outcome === "created").length, COUNT);
      assert.ok(client.throttled > 0, "the API server answered 429 at least once");
    } finally {
      client.close();
    }
  });
});
