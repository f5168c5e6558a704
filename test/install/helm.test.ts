// The Helm chart (deploy/helm/arca) makes what `arca install` makes: the committed chart is what
// `npm run gen:helm` writes, `helm template` (helm built from its Go module) renders the same
// objects as `arca install --dry-run -o yaml` for the same settings, and what it renders, applied
// to the real cluster, is what `arca install` would have made there.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { apiResource } from "../../src/api/kinds.js";
import { resourceOf } from "../../src/install/apply.js";
import { helmChartFiles } from "../../src/install/helm.js";
import { installManifests, locationUrl } from "../../src/install/manifests.js";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { getObject } from "../../src/kube/list.js";
import type { KubeObject } from "../../src/kube/object.js";
import { runArca } from "../cli/run.js";
import { kubernetesBinaries } from "../env/binaries.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { helmBinary } from "../support/helm.js";
import { statusOf, uniqueName } from "../support/wait.js";

const chart = fileURLToPath(new URL("../../deploy/helm/arca", import.meta.url));
const run = promisify(execFile);
const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err: unknown) => statusOf(err) === 404,
  );

/** Objects by kind/namespace/name, without what only Helm adds (the keep policy). */
function byIdentity(yamlText: string): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  for (const doc of parseAllDocuments(yamlText)) {
    const o = doc.toJS() as KubeObject | null;
    if (!o) continue;
    const annotations = { ...o.metadata.annotations };
    delete annotations["helm.sh/resource-policy"];
    if (Object.keys(annotations).length) o.metadata.annotations = annotations;
    else delete o.metadata.annotations;
    out.set(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
  }
  return out;
}

/** Object by object; deepEqual ignores key order. */
function assertSameObjects(helm: Map<string, KubeObject>, arca: Map<string, KubeObject>): void {
  assert.deepEqual([...helm.keys()].sort(), [...arca.keys()].sort());
  for (const [id, o] of arca) assert.deepEqual(helm.get(id), o, `${id} differs`);
}

describe("the Helm chart", () => {
  const scratch = mkdtempSync(join(tmpdir(), "arca-helm-"));
  let helm: string;
  // No cluster: the dry run is what a fresh install applies.
  const offline = { ...process.env, KUBECONFIG: join(scratch, "no-such-kubeconfig") };
  const template = async (namespace: string, values: Record<string, unknown>) => {
    const file = join(scratch, `values-${uniqueName("v")}.yaml`);
    writeFileSync(file, stringify(values));
    const args = ["template", "arca", chart, "--namespace", namespace, "--include-crds", "--values", file];
    return (await run(helm, args, { maxBuffer: 64 << 20 })).stdout;
  };
  const arcaDryRun = async (namespace: string, flags: string[]) => {
    const result = await runArca(["-n", namespace, "install", "--dry-run", "-o", "yaml", ...flags], offline);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };

  before(async () => {
    helm = await helmBinary();
    writeFileSync(join(scratch, "password"), "correct horse battery staple\n");
    writeFileSync(
      join(scratch, "credentials.yaml"),
      "apiVersion: v1\nkind: Secret\nstringData:\n  access-key-id: AKID\n  access-key-secret: s3cret\n  security-token: tok\n",
    );
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("is committed exactly as npm run gen:helm writes it", () => {
    const files = helmChartFiles();
    const committed = readdirSync(chart, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(chart, join(e.parentPath, e.name)));
    assert.deepEqual(committed.sort(), files.map((f) => f.file).sort(), "run npm run gen:helm");
    for (const { file, text } of files)
      assert.equal(readFileSync(join(chart, file), "utf8"), text, `${file} is stale: run npm run gen:helm`);
  });

  it("renders what arca install --dry-run prints: S3 with access keys, the node agent, the usual namespace", async () => {
    const flags = [
      "--provider",
      "s3",
      "--bucket",
      "backups",
      "--prefix",
      "c1",
      "--endpoint",
      "http://minio.example:9000",
    ];
    const arca = await arcaDryRun("velero", [
      ...flags,
      ...["--secret-file", join(scratch, "credentials.yaml"), "--password-file", join(scratch, "password")],
      ...["--image", "registry.example/arca:1.2.3"],
    ]);
    const helmOut = await template("velero", {
      createNamespace: true,
      image: "registry.example/arca:1.2.3",
      location: locationUrl({
        provider: "s3",
        bucket: "backups",
        prefix: "c1",
        endpoint: "http://minio.example:9000",
      }),
      // As --set-file reads it: white space at the ends is no part of it, as for arca install.
      repositoryPassword: { value: "correct horse battery staple\n" },
      credentials: { accessKeyId: "AKID", accessKeySecret: "s3cret", securityToken: "tok" },
    });
    const objects = byIdentity(helmOut);
    assert.ok(objects.has("DaemonSet/velero/node-agent"));
    assert.ok(objects.has("ClusterRole//arca"), "the usual namespace's ClusterRole is plain arca");
    assertSameObjects(objects, byIdentity(arca));
  });

  it("renders what arca install --dry-run prints: a file location, no node agent, another namespace", async () => {
    const arca = await arcaDryRun("backup-system", [
      ...["--provider", "file", "--bucket", "/var/lib/arca/backups"],
      ...["--password-file", join(scratch, "password"), "--no-node-agent"],
    ]);
    const helmOut = await template("backup-system", {
      createNamespace: true,
      location: "file:///var/lib/arca/backups",
      repositoryPassword: { value: "correct horse battery staple" },
      nodeAgent: { enabled: false },
    });
    const objects = byIdentity(helmOut);
    assert.ok(![...objects.keys()].some((id) => id.includes("node-agent")));
    assert.ok(objects.has("ClusterRole//arca-backup-system"));
    assertSameObjects(objects, byIdentity(arca));
  });

  it("renders what arca install --dry-run prints: OSS on the nodes' RAM role, a moved kubelet, the namespace made by helm", async () => {
    const arca = byIdentity(
      await arcaDryRun("team-a", [
        ...[
          "--provider",
          "alibabacloud",
          "--bucket",
          "arca-backups",
          "--region",
          "cn-hangzhou",
          "--use-ram-role",
        ],
        ...["--password-file", join(scratch, "password"), "--kubelet-root-dir", "/var/lib/k0s/kubelet/"],
      ]),
    );
    const helmOut = byIdentity(
      await template("team-a", {
        location: "oss://arca-backups?region=cn-hangzhou",
        repositoryPassword: { value: "correct horse battery staple" },
        nodeAgent: { kubeletRootDir: "/var/lib/k0s/kubelet/" },
      }),
    );
    // createNamespace defaults to false: `helm install --create-namespace` makes it.
    assert.ok(arca.delete("Namespace//team-a"));
    assertSameObjects(helmOut, arca);
  });

  it("takes existing Secrets for the password and the credentials, as install does with the ones it finds", async () => {
    // What arca install prints where alibaba-addon-secret and the password Secret exist already.
    const arca = installManifests({
      namespace: "velero",
      url: "oss://arca-backups?region=cn-beijing",
      credential: { source: "addon-secret" },
      password: "unused",
      omitPasswordSecret: true,
    });
    const helmOut = await template("velero", {
      createNamespace: true,
      location: "oss://arca-backups?region=cn-beijing",
      repositoryPassword: { existingSecret: "arca-repository-password" },
      credentials: { existingSecret: "alibaba-addon-secret" },
    });
    assertSameObjects(byIdentity(helmOut), byIdentity(arca.map((o) => stringify(o)).join("---\n")));
  });

  it("refuses values that would make a broken install, and says which", async () => {
    const refuses = async (values: Record<string, unknown>, message: RegExp) =>
      assert.rejects(template("velero", values), (err: Error & { stderr?: string }) =>
        message.test(err.stderr ?? ""),
      );
    await refuses(
      { location: "file:///b" },
      /set repositoryPassword.value, or repositoryPassword.existingSecret/,
    );
    await refuses(
      { location: "file:///b", repositoryPassword: { value: " \n" } },
      /set repositoryPassword.value, or repositoryPassword.existingSecret/,
    );
    await refuses({ repositoryPassword: { value: "p" } }, /set location: the backup location URL/);
    await refuses(
      {
        location: "file:///b",
        repositoryPassword: { value: "p" },
        nodeAgent: { kubeletRootDir: "var/lib/kubelet" },
      },
      /nodeAgent.kubeletRootDir "var\/lib\/kubelet" is not an absolute path/,
    );
  });
});

describe("the Helm chart in the real cluster", () => {
  let env: TestEnvironment;
  let helm: string;
  const ns = uniqueName("helm");
  const scratch = mkdtempSync(join(tmpdir(), "arca-helm-cluster-"));

  before(async () => {
    [env, helm] = await Promise.all([testEnvironment(), helmBinary()]);
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    const kc = env?.cluster.kubeConfig();
    if (kc) {
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      for (const name of [`arca-${ns}`, `arca-${ns}-node-agent`]) {
        await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
        await rbac.deleteClusterRole({ name }).catch(() => undefined);
      }
      await kc
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: ns })
        .catch(() => undefined);
    }
    await env?.stop();
  });

  it("helm template | kubectl apply makes the objects arca install would make, and arca uninstall removes them", async () => {
    const cliEnv = { ...process.env, KUBECONFIG: env.cluster.kubeconfigPath };
    const url = `file:///var/lib/arca/${ns}`;
    writeFileSync(join(scratch, "password"), "a helm password\n");
    writeFileSync(
      join(scratch, "values.yaml"),
      stringify({ createNamespace: true, location: url, repositoryPassword: { value: "a helm password" } }),
    );
    const rendered = (
      await run(helm, ["template", "arca", chart, "-n", ns, "-f", join(scratch, "values.yaml")], {
        maxBuffer: 64 << 20,
      })
    ).stdout;
    // As helm install does: the CRDs (crds/) first, and the rest once they serve.
    const kubectl = (await kubernetesBinaries()).kubectl;
    const crds = join(chart, "crds");
    execFileSync(kubectl, ["apply", "--server-side", "-f", crds], { env: cliEnv });
    execFileSync(kubectl, ["wait", "--for=condition=Established", "--timeout=60s", "-f", crds], {
      env: cliEnv,
    });
    execFileSync(kubectl, ["apply", "--server-side", "-f", "-"], { input: rendered, env: cliEnv });

    // Every object arca install makes is there, as Helm's chart made it.
    const expected = installManifests({
      namespace: ns,
      url,
      credential: { source: "none" },
      password: "a helm password",
    });
    const client = new KubeClient(await loadKubeConfig({ kubeconfig: env.cluster.kubeconfigPath }));
    const live = async () => {
      const out = new Map<string, unknown>();
      for (const o of expected.filter((x) => x.kind !== "CustomResourceDefinition")) {
        const found = await getObject(client, resourceOf(o), o.metadata.name, o.metadata.namespace);
        assert.ok(found, `${o.kind} ${o.metadata.name} was not made by the chart`);
        // Who manages which field, and what the cluster's controllers write, may change.
        const { managedFields: _m, resourceVersion: _r, annotations, ...metadata } = found.metadata;
        const kept = Object.entries(annotations ?? {}).filter(
          ([k]) => !k.startsWith("deployment.kubernetes.io/"),
        );
        const { status: _s, ...object } = found as KubeObject & { status?: unknown };
        out.set(`${o.kind}/${o.metadata.name}`, { ...object, metadata: { ...metadata, annotations: kept } });
      }
      return out;
    };
    try {
      const fromHelm = await live();
      // arca install over it changes nothing: every field it applies already has its value.
      const install = await runArca(
        ["-n", ns, "install", "--location", url, "--password-file", join(scratch, "password")],
        cliEnv,
      );
      assert.equal(install.code, 0, install.stderr);
      assert.match(install.stdout, /^kept\s+Secret .*arca-repository-password/m);
      assert.deepEqual(await live(), fromHelm);

      const uninstall = await runArca(["-n", ns, "uninstall"], cliEnv);
      assert.equal(uninstall.code, 0, uninstall.stderr);
      assert.match(uninstall.stdout, /^deleted\s+DaemonSet .*node-agent/m);
      assert.match(uninstall.stdout, /^deleted\s+Deployment /m);
    } finally {
      client.close();
    }
  });
  it("helm install makes the component, refuses an upgrade that would change the password, and helm uninstall keeps what unlocks the backups", async () => {
    const release = uniqueName("helm-release");
    const kubeconfig = ["--kubeconfig", env.cluster.kubeconfigPath, "-n", release];
    const values = join(scratch, "release-values.yaml");
    writeFileSync(
      values,
      stringify({
        location: `file:///var/lib/arca/${release}`,
        repositoryPassword: { value: "the first password" },
      }),
    );
    const kc = env.cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    try {
      await run(helm, ["install", "arca", chart, ...kubeconfig, "--create-namespace", "-f", values]);
      await apps.readNamespacedDeployment({ name: "arca", namespace: release });
      await apps.readNamespacedDaemonSet({ name: "node-agent", namespace: release });
      const secret = await core.readNamespacedSecret({
        name: "arca-repository-password",
        namespace: release,
      });
      assert.equal(Buffer.from(secret.data?.password ?? "", "base64").toString(), "the first password");

      // A new password would lock everyone out of the backups made with the first.
      await assert.rejects(
        run(helm, [
          "upgrade",
          "arca",
          chart,
          ...kubeconfig,
          "-f",
          values,
          "--set",
          "repositoryPassword.value=another",
        ]),
        (err: Error & { stderr?: string }) =>
          /Secret arca-repository-password exists with another password, and is never replaced/.test(
            err.stderr ?? "",
          ),
      );
      await run(helm, [
        "upgrade",
        "arca",
        chart,
        ...kubeconfig,
        "-f",
        values,
        "--set",
        "nodeAgent.enabled=false",
      ]);
      assert.equal(
        await gone(apps.readNamespacedDaemonSet({ name: "node-agent", namespace: release })),
        true,
      );

      await run(helm, ["uninstall", "arca", ...kubeconfig, "--wait"]);
      assert.equal(await gone(apps.readNamespacedDeployment({ name: "arca", namespace: release })), true);
      const kept = await core.readNamespacedSecret({ name: "arca-repository-password", namespace: release });
      assert.deepEqual(kept.data, secret.data);
      const client = new KubeClient(await loadKubeConfig({ kubeconfig: env.cluster.kubeconfigPath }));
      const location = await getObject(client, apiResource("BackupLocation"), "default", release).finally(
        () => client.close(),
      );
      assert.ok(location, "the BackupLocation is kept");
    } finally {
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      for (const name of [`arca-${release}`, `arca-${release}-node-agent`]) {
        await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
        await rbac.deleteClusterRole({ name }).catch(() => undefined);
      }
      await core.deleteNamespace({ name: release }).catch(() => undefined);
    }
  });
});
