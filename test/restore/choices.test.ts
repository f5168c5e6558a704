// Restore choices and bad input against the real cluster: existing-resource policies, dry
// runs against a changed cluster, modifiers and mappings, CRDs that never establish, and
// items that fail on their own while the rest is restored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { writeFileSync } from "node:fs";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { BACKUP_JSON, backupTag, TAG_ARCA, type BackupRecord } from "../../src/backup/layout.js";
import { DEFAULT_SPEC } from "../../src/backup/spec.js";
import { KubeClient } from "../../src/kube/client.js";
import type { Repository } from "../../src/repo/repository.js";
import { formatTime } from "../../src/repo/time.js";
import { runRestore, type RestoreRequest } from "../../src/restore/engine.js";
import type { ItemResult } from "../../src/restore/layout.js";
import { loadModifiers } from "../../src/restore/modifiers.js";
import { DEFAULT_RESTORE_SPEC, type RestoreSpec } from "../../src/restore/spec.js";
import { TreeBuilder } from "../../src/snapshot/virtual.js";
import {
  forConfigMap,
  forCrd,
  forCustomObject,
  forNamespace,
  forPersistentVolumeClaim,
  forSecret,
} from "../builders/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { backUp, createObjects, scratchRepository } from "../support/backup.js";
import { limitedUser } from "../support/users.js";
import { uniqueName } from "../support/wait.js";

// client-node 1.x needs the patch type spelled out.
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

describe("restore choices", () => {
  let env: TestEnvironment;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let repo: Repository;
  let scratch: string;
  let removeRepo: () => void;
  const ns = uniqueName("rst");
  let n = 0;
  const restore = (spec: Partial<RestoreSpec>, extra: Partial<RestoreRequest> = {}) =>
    runRestore({
      name: `r${++n}`,
      spec: { ...DEFAULT_RESTORE_SPEC, backup: "base", ...spec },
      repo,
      client: new KubeClient(kc),
      ...extra,
    });
  const outcomeOf = (items: ItemResult[], resource: string, name: string) =>
    items.find((i) => i.resource === resource && i.name === name);

  before(async () => {
    env = await testEnvironment();
    kc = env.cluster.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ({ repo, dir: scratch, remove: removeRepo } = await scratchRepository());
    await createObjects(kc, [
      forNamespace(ns).result(),
      forConfigMap(ns, "settings").data({ mode: "fast" }).result(),
      forConfigMap(ns, "colors").labels({ theme: "dark" }).data({ bg: "black" }).result(),
      forSecret(ns, "password").stringData({ p: "s3cret" }).result(),
      forPersistentVolumeClaim(ns, "data").storageClass("slow").result(),
    ]);
    await backUp(kc, repo, "base", { includeNamespaces: [ns] });
  });
  after(async () => {
    repo?.close();
    removeRepo?.();
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await env?.stop();
  });

  it("with none, leaves an object that differs, and says so; with update, applies the backup", async () => {
    await core.patchNamespacedConfigMap({
      name: "settings",
      namespace: ns,
      body: [{ op: "replace", path: "/data/mode", value: "slow" }],
    });
    const kept = await restore({ existingResourcePolicy: "none" });
    const settings = outcomeOf(kept.results.items, "configmaps", "settings");
    assert.equal(settings?.outcome, "skipped");
    assert.deepEqual(settings?.diff, ['/data/mode: "slow" -> "fast"']);
    assert.ok(kept.results.warnings.some((w) => w.includes(`configmaps/${ns}/settings exists and differs`)));
    assert.equal(
      (await core.readNamespacedConfigMap({ name: "settings", namespace: ns })).data?.mode,
      "slow",
    );
    assert.equal(outcomeOf(kept.results.items, "secrets", "password")?.outcome, "skipped");

    const updated = await restore({ existingResourcePolicy: "update" });
    assert.equal(outcomeOf(updated.results.items, "configmaps", "settings")?.outcome, "updated");
    const live = await core.readNamespacedConfigMap({ name: "settings", namespace: ns });
    assert.equal(live.data?.mode, "fast");
    assert.equal(live.metadata?.managedFields?.find((f) => f.manager === "arca")?.operation, "Apply");
    assert.equal(updated.record.status.phase, "Completed");
  });

  it("dry-run reports create, skip and conflict with a diff, and changes nothing", async () => {
    await core.deleteNamespacedSecret({ name: "password", namespace: ns });
    await core.patchNamespacedConfigMap(
      {
        name: "colors",
        namespace: ns,
        body: [{ op: "replace", path: "/data/bg", value: "white" }],
      },
      jsonPatch,
    );
    const before = await repo.listSnapshots();
    const dry = await restore({}, { dryRun: true });
    assert.equal(dry.record.status.dryRun, true);
    assert.equal(outcomeOf(dry.results.items, "secrets", "password")?.outcome, "create");
    assert.equal(outcomeOf(dry.results.items, "configmaps", "settings")?.outcome, "skip");
    const colors = outcomeOf(dry.results.items, "configmaps", "colors");
    assert.equal(colors?.outcome, "conflict");
    assert.deepEqual(colors?.diff, ['/data/bg: "white" -> "black"']);
    const withUpdate = await restore({ existingResourcePolicy: "update" }, { dryRun: true });
    assert.equal(outcomeOf(withUpdate.results.items, "configmaps", "colors")?.outcome, "update");
    // Nothing changed: the secret is still gone, the config map still white, no record written.
    await assert.rejects(core.readNamespacedSecret({ name: "password", namespace: ns }));
    assert.equal((await core.readNamespacedConfigMap({ name: "colors", namespace: ns })).data?.bg, "white");
    assert.equal((await repo.listSnapshots()).length, before.length);
  });

  it("maps namespaces and storage classes, and applies resource modifiers", async () => {
    const target = `${ns}-mapped`;
    const rules = `${scratch}/modifiers.yaml`;
    writeFileSync(
      rules,
      [
        "version: v1",
        "resourceModifierRules:",
        "- conditions:",
        "    groupResource: configmaps",
        "    resourceNameRegex: ^col",
        "    labelSelector: {matchLabels: {theme: dark}}",
        "  patches:",
        "  - {operation: add, path: /data/fg, value: white}",
        "  mergePatches:",
        '  - patchData: \'{"metadata": {"annotations": {"patched": "yes"}}}\'',
      ].join("\n"),
    );
    const out = await restore(
      { namespaceMappings: { [ns]: target }, storageClassMappings: { slow: "fast" } },
      { modifiers: await loadModifiers(rules) },
    );
    try {
      assert.equal(
        out.record.status.phase,
        "Completed",
        JSON.stringify(out.results.items.filter((i) => i.outcome === "failed")),
      );
      const colors = await core.readNamespacedConfigMap({ name: "colors", namespace: target });
      assert.deepEqual(colors.data, { bg: "black", fg: "white" });
      assert.equal(colors.metadata?.annotations?.patched, "yes");
      assert.equal(colors.metadata?.labels?.["arca.dev/backup"], "base");
      const settings = await core.readNamespacedConfigMap({ name: "settings", namespace: target });
      assert.equal(
        settings.metadata?.annotations?.patched,
        undefined,
        "the rule's conditions leave other objects alone",
      );
      const pvc = await core.readNamespacedPersistentVolumeClaim({ name: "data", namespace: target });
      assert.equal(pvc.spec?.storageClassName, "fast");
    } finally {
      await core.deleteNamespace({ name: target }).catch(() => undefined);
    }
  });

  it("drops status unless --restore-status, which writes it through the status subresource", async () => {
    const group = `${uniqueName("g")}.arca.test`;
    const crafted = uniqueName("status");
    // Stored as the API server serves it: the wire name of the schema field, not the typed model's.
    const crd = JSON.parse(
      JSON.stringify(forCrd(group, "Job", "jobs").statusSubresource().result()).replaceAll(
        "x_kubernetes_preserve_unknown_fields",
        "x-kubernetes-preserve-unknown-fields",
      ),
    ) as object;
    const job = {
      ...forCustomObject(`${group}/v1`, "Job", crafted, "nightly").spec({ every: "1d" }).result(),
      status: { runs: 42 },
    };
    await craftBackup(repo, "with-status", {
      [`/resources/namespaces/cluster/${crafted}.json`]: forNamespace(crafted).result(),
      [`/resources/customresourcedefinitions.apiextensions.k8s.io/cluster/jobs.${group}.json`]: crd,
      [`/resources/jobs.${group}/namespaces/${crafted}/nightly.json`]: job,
    });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const read = async () =>
      (await custom.getNamespacedCustomObject({
        group,
        version: "v1",
        namespace: crafted,
        plural: "jobs",
        name: "nightly",
      })) as {
        status?: { runs?: number };
      };
    try {
      const plain = await restore({ backup: "with-status" });
      assert.equal(plain.record.status.phase, "Completed", JSON.stringify(plain.results.items));
      assert.equal((await read()).status, undefined);
      await custom.deleteNamespacedCustomObject({
        group,
        version: "v1",
        namespace: crafted,
        plural: "jobs",
        name: "nightly",
      });
      const kept = await restore({ backup: "with-status", restoreStatus: true });
      assert.equal(kept.record.status.phase, "Completed", JSON.stringify(kept.results.items));
      assert.deepEqual((await read()).status, { runs: 42 });
    } finally {
      await core.deleteNamespace({ name: crafted }).catch(() => undefined);
      await kc
        .makeApiClient(ApiextensionsV1Api)
        .deleteCustomResourceDefinition({ name: `jobs.${group}` })
        .catch(() => undefined);
    }
  });

  it("refuses a backup that does not exist, naming it", async () => {
    await assert.rejects(
      restore({ backup: "no-such-backup" }),
      /no backup named no-such-backup in file:\/\//,
    );
  });

  it("fails a corrupt item and an object the API server rejects, and restores the rest", async () => {
    const crafted = uniqueName("crafted");
    await craftBackup(repo, "crafted", {
      [`/resources/namespaces/cluster/${crafted}.json`]: forNamespace(crafted).result(),
      [`/resources/configmaps/namespaces/${crafted}/good.json`]: forConfigMap(crafted, "good")
        .data({ a: "b" })
        .result(),
      [`/resources/configmaps/namespaces/${crafted}/garbled.json`]: Buffer.from(
        '{"apiVersion": "v1", "kind": ',
      ),
      [`/resources/configmaps/namespaces/${crafted}/invalid.json`]: forConfigMap(crafted, "invalid")
        .data({ "not a valid key!": "x" })
        .result(),
    });
    try {
      const out = await restore({ backup: "crafted" });
      assert.equal(out.record.status.phase, "PartiallyFailed");
      assert.match(out.record.status.reasons[0] ?? "", /2 of 4 items failed/);
      const garbled = outcomeOf(out.results.items, "configmaps", "garbled");
      assert.equal(garbled?.outcome, "failed");
      assert.match(garbled?.reason ?? "", /stored object configmaps\/.*\/garbled is not JSON/);
      const invalid = outcomeOf(out.results.items, "configmaps", "invalid");
      assert.equal(invalid?.outcome, "failed");
      assert.match(invalid?.reason ?? "", /HTTP 422 Invalid: .*not a valid key!/);
      assert.equal((await core.readNamespacedConfigMap({ name: "good", namespace: crafted })).data?.a, "b");
    } finally {
      await core.deleteNamespace({ name: crafted }).catch(() => undefined);
    }
  });

  it("fails the items of a namespace the user may not write to, and restores the others", async () => {
    const other = `${ns}-forbidden`;
    await createObjects(kc, [forNamespace(other).result(), forConfigMap(other, "elsewhere").result()]);
    try {
      await backUp(kc, repo, "two", { includeNamespaces: [ns, other], includeResources: ["configmaps"] });
      await core.deleteNamespacedConfigMap({ name: "settings", namespace: ns });
      await core.deleteNamespacedConfigMap({ name: "elsewhere", namespace: other });
      const user = await limitedUser(
        kc,
        ns,
        [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"] }],
        {
          [ns]: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["create"] }],
        },
      );
      const out = await restore(
        { backup: "two", includeResources: ["configmaps"] },
        { client: new KubeClient(user) },
      );
      assert.equal(out.record.status.phase, "PartiallyFailed");
      assert.equal(outcomeOf(out.results.items, "configmaps", "settings")?.outcome, "created");
      const denied = outcomeOf(out.results.items, "configmaps", "elsewhere");
      assert.equal(denied?.outcome, "failed");
      assert.equal(denied?.namespace, other);
      assert.match(denied?.reason ?? "", /creating ConfigMap .*elsewhere: HTTP 403 Forbidden/);
      assert.ok(await core.readNamespacedConfigMap({ name: "settings", namespace: ns }));
    } finally {
      await core.deleteNamespace({ name: other }).catch(() => undefined);
    }
  });

  it("fails custom resources whose CRD never becomes Established, with the reason", async () => {
    // Two CRDs may not claim the same plural in a group: the second is never Established.
    const group = `${uniqueName("g")}.arca.test`;
    const crafted = uniqueName("crd");
    await createObjects(kc, [forCrd(group, "Widget", "widgets").result()]);
    await craftBackup(repo, "clash", {
      [`/resources/namespaces/cluster/${crafted}.json`]: forNamespace(crafted).result(),
      [`/resources/customresourcedefinitions.apiextensions.k8s.io/cluster/gadgets.${group}.json`]: forCrd(
        group,
        "Widget",
        "gadgets",
      ).result(),
      [`/resources/gadgets.${group}/namespaces/${crafted}/one.json`]: forCustomObject(
        `${group}/v1`,
        "Widget",
        crafted,
        "one",
      ).result(),
    });
    try {
      const out = await restore({ backup: "clash" }, { crdTimeoutMs: 3000 });
      assert.equal(out.record.status.phase, "PartiallyFailed");
      const cr = outcomeOf(out.results.items, `gadgets.${group}`, "one");
      assert.equal(cr?.outcome, "failed");
      assert.match(cr?.reason ?? "", new RegExp(`CRD gadgets.${group} did not become Established within 3s`));
      assert.ok(out.record.status.reasons.some((r) => r.includes("custom resources were not restored")));
    } finally {
      await core.deleteNamespace({ name: crafted }).catch(() => undefined);
    }
  });
});

/** A backup written by hand, for input that the backup engine would never produce. */
async function craftBackup(
  repo: Repository,
  name: string,
  files: Record<string, object | Buffer>,
): Promise<void> {
  const now = new Date();
  const record: BackupRecord = {
    apiVersion: "arca.dev/v1alpha1",
    kind: "Backup",
    metadata: { name },
    spec: DEFAULT_SPEC,
    status: {
      phase: "Completed",
      startTimestamp: now.toISOString(),
      itemsBackedUp: Object.keys(files).length,
      resourceTypes: 1,
      warnings: 0,
      errors: 0,
      bytes: 0,
      storedBytes: 0,
      cluster: { server: "https://crafted.invalid" },
    },
  };
  const tree = new TreeBuilder(repo);
  await tree.addFile(BACKUP_JSON, Buffer.from(JSON.stringify(record)));
  for (const [path, content] of Object.entries(files))
    await tree.addFile(path, Buffer.isBuffer(content) ? content : Buffer.from(JSON.stringify(content)));
  const root = await tree.finish();
  await repo.flush();
  await repo.saveSnapshot({
    time: formatTime(now),
    tree: root,
    paths: ["/"],
    tags: [TAG_ARCA, backupTag(name)],
  });
}
