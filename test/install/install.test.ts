// `arca install` and `arca uninstall` as an operator runs them, against the real test cluster.
// There is no kubelet: the Deployment is created but its Pod never runs, so these tests check
// the objects install writes, and the shipped RBAC through a token of its ServiceAccount.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { apiResource, KINDS } from "../../src/api/kinds.js";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { getObject } from "../../src/kube/list.js";
import { chooseCredential, installManifests, locationUrl } from "../../src/install/manifests.js";
import { runArca } from "../cli/run.js";
import { kubernetesBinaries } from "../env/binaries.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { serviceAccountKubeconfig } from "../support/install.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const decode = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? "", "base64").toString("utf8");
const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err: unknown) => statusOf(err) === 404,
  );

describe("install manifests", () => {
  it("builds location URLs from the provider flags, and says what is missing", () => {
    assert.equal(
      locationUrl({ provider: "alibabacloud", bucket: "mybackups", prefix: "/c1/", region: "cn-hangzhou" }),
      "oss://mybackups/c1?region=cn-hangzhou",
    );
    assert.equal(
      locationUrl({ provider: "aws", bucket: "mybackups", region: "eu-west-1" }),
      "s3://mybackups?region=eu-west-1",
    );
    assert.equal(
      locationUrl({ provider: "s3", bucket: "mybackups", endpoint: "http://minio:9000" }),
      "s3://mybackups?region=us-east-1&endpoint=http://minio:9000&forcePathStyle=true",
    );
    assert.equal(locationUrl({ provider: "file", bucket: "/var/backups" }), "file:///var/backups");
    assert.equal(
      locationUrl({ location: "oss://mybackups?region=cn-beijing" }),
      "oss://mybackups?region=cn-beijing",
    );
    assert.throws(
      () => locationUrl({ provider: "aws", bucket: "mybackups" }),
      /--provider aws needs --region/,
    );
    assert.throws(() => locationUrl({ provider: "s3", bucket: "mybackups" }), /needs --endpoint/);
    assert.throws(() => locationUrl({ provider: "file", bucket: "relative" }), /absolute directory/);
    assert.throws(() => locationUrl({}), /no backup location given/);
    assert.throws(() => locationUrl({ location: "s3://mybackups", bucket: "x" }), /cannot be combined/);
  });

  it("chooses credentials by the rules, and rejects a secret file without both keys", () => {
    const file = (text: string) => ({ text, path: "creds.yaml" });
    const choose = (c: Partial<Parameters<typeof chooseCredential>[0]>) =>
      chooseCredential({ scheme: "oss", addonSecretExists: false, ...c }).credential.source;
    assert.equal(choose({ addonSecretExists: true, useRamRole: true }), "addon-secret");
    assert.equal(choose({ useRamRole: true }), "ram-role");
    assert.equal(
      choose({ secretFile: file("stringData: {access-key-id: a, access-key-secret: b}") }),
      "secret-file",
    );
    assert.equal(choose({ scheme: "s3", addonSecretExists: true }), "default-chain");
    assert.equal(choose({ scheme: "file" }), "none");
    assert.throws(
      () => choose({}),
      (err: Error & { hint?: string }) =>
        /needs credentials/.test(err.message) &&
        /--use-ram-role.*alibaba-addon-secret.*--secret-file/.test(err.hint ?? ""),
    );
    assert.throws(
      () => choose({ secretFile: file("stringData: {access-key-id: a}") }),
      /creds.yaml lacks access-key-id or access-key-secret/,
    );
  });

  it("binds the controller to explicit rules, never to cluster-admin", () => {
    const objects = installManifests({
      namespace: "velero",
      url: "s3://mybackups?region=us-east-1",
      credential: { source: "default-chain" },
      password: "p",
    });
    const binding = objects.find((o) => o.kind === "ClusterRoleBinding") as { roleRef?: { name: string } };
    assert.equal(binding.roleRef?.name, "arca");
    assert.ok(!JSON.stringify(objects).includes("cluster-admin"));
    assert.ok(objects.every((o) => o.metadata.labels?.["app.kubernetes.io/part-of"] === "arca"));
  });
});

describe("arca install --dry-run: the node agent", () => {
  // No cluster: the output is what a fresh install applies.
  const offline = { ...process.env, KUBECONFIG: join(tmpdir(), "arca-no-such-kubeconfig") };
  const dryRun = async (...flags: string[]) => {
    const result = await runArca(
      [
        "-n",
        "backup-system",
        "install",
        "--dry-run",
        "-o",
        "yaml",
        "--provider",
        "file",
        "--bucket",
        "/var/backups",
        ...flags,
      ],
      offline,
    );
    assert.equal(result.code, 0, result.stderr);
    return parseAllDocuments(result.stdout).map((d) => d.toJS() as NodeAgentObject);
  };
  type NodeAgentObject = {
    kind: string;
    metadata: { name: string; namespace?: string };
    spec?: { template: { spec: PodSpec } };
    rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    subjects?: Array<{ name: string; namespace: string }>;
  };
  type PodSpec = {
    serviceAccountName: string;
    tolerations: unknown[];
    containers: Array<{
      command: string[];
      env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
      readinessProbe: { httpGet: { path: string } };
      securityContext: Record<string, unknown> & { capabilities: { drop: string[]; add: string[] } };
      volumeMounts: Array<{ name: string; mountPath: string; mountPropagation?: string }>;
    }>;
    volumes: Array<{ name: string; hostPath?: { path: string; type: string } }>;
  };

  it("runs on every node as root with only the capabilities reading and restoring files need", async () => {
    const docs = await dryRun();
    const agent = docs.find((d) => d.kind === "DaemonSet");
    assert.equal(agent?.metadata.name, "node-agent");
    assert.equal(agent?.metadata.namespace, "backup-system");
    const pod = agent!.spec!.template.spec;
    assert.equal(pod.serviceAccountName, "arca-node-agent");
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    const [container] = pod.containers;
    assert.deepEqual(container?.command.slice(0, 4), ["arca", "node-agent", "--namespace", "backup-system"]);
    assert.deepEqual(container?.env, [
      { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ]);
    assert.equal(container?.readinessProbe.httpGet.path, "/readyz");
    const security = container!.securityContext;
    assert.equal(security.runAsUser, 0);
    assert.equal(security.privileged, undefined, "HostToContainer propagation needs no privileged container");
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.deepEqual(security.capabilities.drop, ["ALL"]);
    assert.deepEqual(security.capabilities.add.sort(), [
      "CHOWN",
      "DAC_OVERRIDE",
      "DAC_READ_SEARCH",
      "FOWNER",
    ]);
    const mount = container!.volumeMounts.find((m) => m.name === "host-pods");
    assert.equal(mount?.mountPropagation, "HostToContainer");
    assert.equal(container?.command[container.command.indexOf("--pod-dir") + 1], mount?.mountPath);
    assert.deepEqual(pod.volumes.find((v) => v.name === "host-pods")?.hostPath, {
      path: "/var/lib/kubelet/pods",
      type: "Directory",
    });
  });

  it("has its own ServiceAccount, reads cluster-wide only Pods and volumes, and writes only its status and Events", async () => {
    const docs = await dryRun();
    const of = (kind: string) =>
      docs.filter((d) => d.kind === kind && d.metadata.name.includes("node-agent"));
    assert.deepEqual(
      of("ServiceAccount").map((d) => d.metadata.name),
      ["arca-node-agent"],
    );
    const [clusterRole] = of("ClusterRole");
    assert.equal(clusterRole?.metadata.name, "arca-backup-system-node-agent");
    assert.deepEqual(clusterRole?.rules, [
      {
        apiGroups: [""],
        resources: ["pods", "persistentvolumeclaims", "persistentvolumes"],
        verbs: ["get", "list", "watch"],
      },
    ]);
    const [role] = of("Role");
    const writes = role!.rules!.filter((r) => r.verbs.some((v) => !["get", "list", "watch"].includes(v)));
    assert.deepEqual(writes.flatMap((r) => r.resources).sort(), [
      "events",
      "volumebackups/status",
      "volumerestores/status",
    ]);
    for (const binding of [...of("ClusterRoleBinding"), ...of("RoleBinding")])
      assert.deepEqual(binding.subjects, [
        { kind: "ServiceAccount", name: "arca-node-agent", namespace: "backup-system" },
      ]);
  });

  it("--kubelet-root-dir moves the pod directory; --no-node-agent leaves the agent out", async () => {
    const moved = await dryRun("--kubelet-root-dir", "/var/lib/k0s/kubelet/");
    const pod = moved.find((d) => d.kind === "DaemonSet")!.spec!.template.spec;
    assert.equal(
      pod.volumes.find((v) => v.name === "host-pods")?.hostPath?.path,
      "/var/lib/k0s/kubelet/pods",
    );

    const without = await dryRun("--no-node-agent");
    assert.deepEqual(
      without
        .filter((d) => JSON.stringify(d).includes("node-agent"))
        .map((d) => `${d.kind}/${d.metadata.name}`),
      [],
    );
    assert.ok(without.some((d) => d.kind === "Deployment"));

    const relative = await runArca(
      [
        "install",
        "--dry-run",
        "--provider",
        "file",
        "--bucket",
        "/b",
        "--kubelet-root-dir",
        "var/lib/kubelet",
      ],
      offline,
    );
    assert.notEqual(relative.code, 0);
    assert.match(relative.stderr, /--kubelet-root-dir "var\/lib\/kubelet" is not an absolute path/);
  });
});

describe("arca install / uninstall", () => {
  let env: TestEnvironment;
  let cliEnv: NodeJS.ProcessEnv;
  const scratch = mkdtempSync(join(tmpdir(), "arca-install-"));
  const [nsMain, nsDry, nsAddon, nsNone] = ["install", "install-dry", "install-addon", "install-none"].map(
    (p) => uniqueName(p),
  ) as [string, string, string, string];
  const namespaces = [nsMain, nsDry, nsAddon, nsNone];
  const arca = (...args: string[]) => runArca(args, cliEnv);
  let s3Flags: string[];
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let rbac: RbacAuthorizationV1Api;
  let custom: CustomObjectsApi;
  const location = (ns: string) =>
    custom.getNamespacedCustomObject({
      group: "arca.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "backuplocations",
      name: "default",
    }) as Promise<{ spec: Record<string, unknown> }>;

  before(async () => {
    env = await testEnvironment();
    const kc = env.cluster.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    cliEnv = { ...process.env, KUBECONFIG: env.cluster.kubeconfigPath };
    writeFileSync(
      join(scratch, "credentials.yaml"),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: alibaba-addon-secret}\nstringData:\n` +
        `  access-key-id: ${env.s3.accessKeyId}\n  access-key-secret: ${env.s3.secretAccessKey}\n`,
    );
    s3Flags = ["--provider", "s3", "--bucket", env.bucket, "--prefix", nsMain, "--region", env.s3.region];
    s3Flags.push("--endpoint", env.s3.endpoint, "--secret-file", join(scratch, "credentials.yaml"));
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    for (const ns of namespaces) {
      for (const name of [`arca-${ns}`, `arca-${ns}-node-agent`]) {
        await rbac?.deleteClusterRoleBinding({ name }).catch(() => undefined);
        await rbac?.deleteClusterRole({ name }).catch(() => undefined);
      }
      await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    await env?.stop();
  });

  it("installs everything into a fresh namespace, and a second run keeps the password", async () => {
    const first = await arca("-n", nsMain, "install", ...s3Flags);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied\s+Deployment /m);
    assert.ok(
      first.stdout.includes(
        `kubectl -n ${nsMain} get secret arca-repository-password -o jsonpath='{.data.password}' | base64 -d`,
      ),
    );
    const namespace = await core.readNamespace({ name: nsMain });
    assert.equal(namespace.metadata?.labels?.["app.kubernetes.io/part-of"], "arca");
    await core.readNamespacedServiceAccount({ name: "arca", namespace: nsMain });
    const binding = await rbac.readClusterRoleBinding({ name: `arca-${nsMain}` });
    assert.deepEqual(
      binding.subjects?.map((x) => [x.kind, x.name, x.namespace]),
      [["ServiceAccount", "arca", nsMain]],
    );
    assert.equal(binding.roleRef.name, `arca-${nsMain}`);

    const deployment = await apps.readNamespacedDeployment({ name: "arca", namespace: nsMain });
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(pod?.serviceAccountName, "arca");
    assert.equal(container?.image, `arca:${VERSION}`);
    assert.deepEqual(container?.command, [
      "arca",
      "server",
      "--namespace",
      nsMain,
      "--metrics-bind-address",
      "0.0.0.0:8085",
    ]);
    assert.equal(container?.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);

    const agent = await apps.readNamespacedDaemonSet({ name: "node-agent", namespace: nsMain });
    assert.equal(agent.spec?.template.spec?.containers[0]?.image, `arca:${VERSION}`);
    assert.equal(
      agent.spec?.template.spec?.containers[0]?.volumeMounts?.find((m) => m.name === "host-pods")
        ?.mountPropagation,
      "HostToContainer",
    );
    await core.readNamespacedServiceAccount({ name: "arca-node-agent", namespace: nsMain });
    await rbac.readNamespacedRoleBinding({ name: "arca-node-agent", namespace: nsMain });
    const agentBinding = await rbac.readClusterRoleBinding({ name: `arca-${nsMain}-node-agent` });
    assert.deepEqual(
      agentBinding.subjects?.map((x) => [x.kind, x.name, x.namespace]),
      [["ServiceAccount", "arca-node-agent", nsMain]],
    );

    const bl = await location(nsMain);
    assert.equal(
      bl.spec.url,
      `s3://${env.bucket}/${nsMain}?region=${env.s3.region}&endpoint=${env.s3.endpoint}&forcePathStyle=true`,
    );
    assert.deepEqual(bl.spec.credential, { name: "arca-credentials" });
    assert.deepEqual(bl.spec.password, { name: "arca-repository-password", key: "password" });
    assert.equal(bl.spec.default, true);
    const creds = await core.readNamespacedSecret({ name: "arca-credentials", namespace: nsMain });
    assert.equal(decode(creds.data, "access-key-id"), env.s3.accessKeyId);
    assert.equal(decode(creds.data, "access-key-secret"), env.s3.secretAccessKey);
    const password = await core.readNamespacedSecret({ name: "arca-repository-password", namespace: nsMain });
    assert.match(decode(password.data, "password"), /^[A-Za-z0-9_-]{43}$/);

    const second = await arca("-n", nsMain, "install", ...s3Flags);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^kept\s+Secret .*arca-repository-password/m);
    assert.doesNotMatch(second.stdout, /base64 -d/);
    const again = await core.readNamespacedSecret({ name: "arca-repository-password", namespace: nsMain });
    assert.deepEqual(again.data, password.data);
    assert.equal(again.metadata?.resourceVersion, password.metadata?.resourceVersion);
  });

  it("--dry-run -o yaml prints manifests that kubectl accepts, and changes nothing", async () => {
    const dry = await arca("-n", nsDry, "install", "--dry-run", "-o", "yaml", ...s3Flags);
    assert.equal(dry.code, 0, dry.stderr);
    const docs = parseAllDocuments(dry.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    const named = (kind: string) => docs.filter((d) => d.kind === kind).map((d) => d.metadata.name);
    assert.deepEqual(
      named("CustomResourceDefinition").sort(),
      Object.values(KINDS)
        .map((k) => `${k.plural}.arca.dev`)
        .sort(),
    );
    assert.deepEqual(named("Deployment"), ["arca"]);
    assert.deepEqual(named("BackupLocation"), ["default"]);
    assert.deepEqual(named("Namespace"), [nsDry]);
    assert.ok(await gone(core.readNamespace({ name: nsDry })));
    assert.ok(await gone(rbac.readClusterRole({ name: `arca-${nsDry}` })));
    assert.match(dry.stderr, /the output holds a generated repository password/);

    // What the output is for: kubectl applies it as it stands (server-side, as the docs say).
    const kubectl = (await kubernetesBinaries()).kubectl;
    execFileSync(kubectl, ["apply", "--server-side", "-f", "-"], { input: dry.stdout, env: cliEnv });
    assert.match(String((await location(nsDry)).spec.url), /^s3:\/\//);
    await apps.readNamespacedDeployment({ name: "arca", namespace: nsDry });

    // Against an install, the password Secret is left out, so that applying keeps the password.
    const existing = await arca("-n", nsMain, "install", "--dry-run", "-o", "json", ...s3Flags);
    assert.equal(existing.code, 0, existing.stderr);
    const items = (
      JSON.parse(existing.stdout) as { items: Array<{ kind: string; metadata: { name: string } }> }
    ).items;
    assert.deepEqual(
      items.filter((o) => o.kind === "Secret").map((o) => o.metadata.name),
      ["arca-credentials"],
    );
    assert.match(existing.stderr, /exists and is left out of the output/);
  });

  it("uses an existing alibaba-addon-secret, and a given password", async () => {
    await core.createNamespace({ body: { metadata: { name: nsAddon } } });
    await core.createNamespacedSecret({
      namespace: nsAddon,
      body: {
        metadata: { name: "alibaba-addon-secret" },
        stringData: { "access-key-id": "LTAI-test", "access-key-secret": "s" },
      },
    });
    writeFileSync(join(scratch, "password"), "a given password\n");
    const oss = ["--provider", "alibabacloud", "--bucket", "arca-backups", "--region", "cn-hangzhou"];
    const result = await arca("-n", nsAddon, "install", ...oss, "--password-file", join(scratch, "password"));
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /base64 -d/);
    const bl = await location(nsAddon);
    assert.equal(bl.spec.url, "oss://arca-backups?region=cn-hangzhou");
    assert.deepEqual(bl.spec.credential, { name: "alibaba-addon-secret" });
    assert.ok(await gone(core.readNamespacedSecret({ name: "arca-credentials", namespace: nsAddon })));
    const password = await core.readNamespacedSecret({
      name: "arca-repository-password",
      namespace: nsAddon,
    });
    assert.equal(decode(password.data, "password"), "a given password");
  });

  it("refuses an OSS location without credentials, before touching the cluster", async () => {
    const result = await arca(
      "-n",
      nsNone,
      "install",
      "--provider",
      "alibabacloud",
      "--bucket",
      "mybackups",
      "--region",
      "cn-hangzhou",
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /an Alibaba Cloud OSS location needs credentials/);
    assert.match(result.stderr, /hint: pass --use-ram-role .*alibaba-addon-secret.*--secret-file/);
    assert.ok(await gone(core.readNamespace({ name: nsNone })));
  });

  it("the ServiceAccount's token can do what the controller needs, and no more", async () => {
    const file = await serviceAccountKubeconfig(
      env.cluster.kubeConfig(),
      nsMain,
      join(scratch, "sa.kubeconfig"),
    );
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    const sa = { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
    // On a cluster whose CRDs are seconds old, their storage may still answer 429 for a moment.
    await eventually("the ServiceAccount listing backups", async () => {
      await sa.custom.listNamespacedCustomObject({
        group: "arca.dev",
        version: "v1alpha1",
        namespace: nsMain,
        plural: "backups",
      });
      return true;
    });
    const secrets = await sa.core.listNamespacedSecret({ namespace: nsMain });
    assert.ok(secrets.items.some((s) => s.metadata?.name === "arca-repository-password"));
    // `arca server --kubeconfig` reads the same file with Arca's own loader.
    const client = new KubeClient(await loadKubeConfig({ kubeconfig: file }));
    assert.ok(await getObject(client, apiResource("BackupLocation"), "default", nsMain));
    client.close();
    await assert.rejects(
      sa.core.deleteNamespace({ name: nsMain, dryRun: "All" }),
      (err) => statusOf(err) === 403,
    );
  });

  it("uninstall removes the controller and its RBAC, and keeps the namespace, Secrets and location", async () => {
    const result = await arca("-n", nsMain, "uninstall");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^deleted\s+Deployment /m);
    assert.match(result.stdout, /^deleted\s+DaemonSet .*node-agent/m);
    assert.ok(await gone(apps.readNamespacedDeployment({ name: "arca", namespace: nsMain })));
    assert.ok(await gone(apps.readNamespacedDaemonSet({ name: "node-agent", namespace: nsMain })));
    assert.ok(await gone(rbac.readClusterRoleBinding({ name: `arca-${nsMain}-node-agent` })));
    assert.ok(await gone(rbac.readClusterRole({ name: `arca-${nsMain}-node-agent` })));
    assert.ok(await gone(rbac.readNamespacedRole({ name: "arca-node-agent", namespace: nsMain })));
    assert.ok(await gone(rbac.readNamespacedRoleBinding({ name: "arca-node-agent", namespace: nsMain })));
    assert.ok(await gone(core.readNamespacedServiceAccount({ name: "arca-node-agent", namespace: nsMain })));
    assert.ok(await gone(rbac.readClusterRoleBinding({ name: `arca-${nsMain}` })));
    assert.ok(await gone(rbac.readClusterRole({ name: `arca-${nsMain}` })));
    assert.ok(await gone(core.readNamespacedServiceAccount({ name: "arca", namespace: nsMain })));
    const namespace = await core.readNamespace({ name: nsMain });
    assert.equal(namespace.metadata?.deletionTimestamp, undefined);
    await core.readNamespacedSecret({ name: "arca-repository-password", namespace: nsMain });
    await core.readNamespacedSecret({ name: "arca-credentials", namespace: nsMain });
    await location(nsMain);
    const again = await arca("-n", nsMain, "uninstall");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^absent\s+Deployment /m);
  });
});
