// Related items: with auto, a namespace's backup brings the cluster-scoped objects its items
// need (a claim's volume and class, a binding's cluster role, bindings that grant to the
// namespace), and a selector-chosen pod brings its claim and service account.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Repository } from "../../src/repo/repository.js";
import {
  forClusterRole,
  forClusterRoleBinding,
  forNamespace,
  forPersistentVolume,
  forPersistentVolumeClaim,
  forPod,
  forRoleBinding,
  forServiceAccount,
  forStorageClass,
} from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { backUp, createObjects, scratchRepository, storedItems, within } from "../support/backup.js";
import { eventually, uniqueName } from "../support/wait.js";

const RBAC = "rbac.authorization.k8s.io";

describe("related items", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let repo: Repository;
  let removeRepo: () => void;
  const run = uniqueName("rel");
  const [ns, elsewhere] = [run, `${run}-elsewhere`];
  const names = {
    sc: `${run}-sc`,
    pv: `${run}-pv`,
    reader: `${run}-reader`,
    granted: `${run}-granted`,
    other: `${run}-other`,
  };

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    ({ repo, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [
      forNamespace(ns).result(),
      forNamespace(elsewhere).result(),
      forStorageClass(names.sc).volumeBindingMode("Immediate").result(),
      forPersistentVolume(names.pv).storageClass(names.sc).hostPath(`/srv/${run}`).result(),
      forPersistentVolumeClaim(ns, "data").storageClass(names.sc).result(),
      forServiceAccount(ns, "worker").result(),
      forPod(ns, "worker").labels({ role: "worker" }).serviceAccount("worker").claim("data", "data").result(),
      forClusterRole(names.reader)
        .rule({ apiGroups: [""], resources: ["pods"], verbs: ["get"] })
        .result(),
      forRoleBinding(ns, "read-pods").clusterRole(names.reader).serviceAccount(ns, "worker").result(),
      forClusterRole(names.granted).result(),
      forClusterRoleBinding(names.granted).serviceAccount(ns, "worker").result(),
      forClusterRole(names.other).result(),
      forClusterRoleBinding(names.other).serviceAccount(elsewhere, "default").result(),
    ]);
    // The controller manager's volume binder pairs the claim with the volume.
    const core = kc.makeApiClient(CoreV1Api);
    await eventually("the claim bound", async () => {
      const pvc = await core.readNamespacedPersistentVolumeClaim({ name: "data", namespace: ns });
      return pvc.status?.phase === "Bound" && pvc.spec?.volumeName === names.pv;
    });
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    await env?.stop();
  });

  const clusterScoped = (items: string[]) =>
    items.filter((i) => i.split("/").length === 2 && !i.startsWith("namespaces/"));

  it("brings volume, class, roles and bindings that grant to the namespace, with the reasons", async () => {
    const outcome = await backUp(kc, repo, "auto", { includeNamespaces: [ns] });
    const items = await storedItems(repo, outcome.snapshot);
    assert.deepEqual(clusterScoped(items), [
      `clusterrolebindings.${RBAC}/${names.granted}`,
      `clusterroles.${RBAC}/${names.granted}`,
      `clusterroles.${RBAC}/${names.reader}`,
      `persistentvolumes/${names.pv}`,
      `storageclasses.storage.k8s.io/${names.sc}`,
    ]);
    const why = Object.fromEntries(
      outcome.results.related.map((r) => [`${r.resource}/${r.name}`, `${r.reason} (${r.from})`]),
    );
    assert.deepEqual(why, {
      [`persistentvolumes/${names.pv}`]: `the volume bound to the claim (persistentvolumeclaims/${ns}/data)`,
      [`storageclasses.storage.k8s.io/${names.sc}`]: `the claim's storage class (persistentvolumeclaims/${ns}/data)`,
      [`clusterroles.${RBAC}/${names.reader}`]: `the binding's role (rolebindings.${RBAC}/${ns}/read-pods)`,
      [`clusterrolebindings.${RBAC}/${names.granted}`]: `a subject lives in namespace ${ns} (namespaces/${ns})`,
      [`clusterroles.${RBAC}/${names.granted}`]: `the binding's role (clusterrolebindings.${RBAC}/${names.granted})`,
    });
  });

  it("brings nothing cluster-scoped with false", async () => {
    const outcome = await backUp(kc, repo, "none", {
      includeNamespaces: [ns],
      includeClusterResources: "false",
    });
    assert.deepEqual(clusterScoped(await storedItems(repo, outcome.snapshot)), []);
    assert.deepEqual(outcome.results.related, []);
  });

  it("never brings what --exclude-resources names", async () => {
    const outcome = await backUp(kc, repo, "no-classes", {
      includeNamespaces: [ns],
      excludeResources: ["sc"],
    });
    const items = clusterScoped(await storedItems(repo, outcome.snapshot));
    assert.ok(items.includes(`persistentvolumes/${names.pv}`));
    assert.ok(!items.some((i) => i.startsWith("storageclasses")));
  });

  it("a pod chosen by a selector brings its claim and service account", async () => {
    const outcome = await backUp(kc, repo, "selected", { includeNamespaces: [ns], selector: "role=worker" });
    assert.deepEqual(within(await storedItems(repo, outcome.snapshot), [ns]), [
      `namespaces/${ns}`,
      `persistentvolumeclaims/${ns}/data`,
      `pods/${ns}/worker`,
      `serviceaccounts/${ns}/worker`,
    ]);
  });
});
