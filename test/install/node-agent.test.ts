// `arca node-agent` as a local process against the real cluster, with the token of the
// ServiceAccount install made for it and a temporary directory as the kubelet's pod directory:
// it says it is ready, its /readyz follows the directory, and its permissions are the few it needs.
// (Running it as the DaemonSet's Pod on a real node is the lead's part of issue 18.)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { runArca } from "../cli/run.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { freePort } from "../support/controller.js";
import { serviceAccountKubeconfig } from "../support/install.js";
import { eventually, statusOf, uniqueName } from "../support/wait.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

describe("arca node-agent", () => {
  let env: TestEnvironment;
  const ns = uniqueName("agent");
  const scratch = mkdtempSync(join(tmpdir(), "arca-node-agent-"));
  const podDir = join(scratch, "kubelet", "pods");
  let kubeconfig: string;
  let admin: KubeConfig;

  before(async () => {
    env = await testEnvironment();
    admin = env.cluster.kubeConfig();
    writeFileSync(join(scratch, "password"), "node agent test password\n");
    const install = await runArca(
      [
        "-n",
        ns,
        "install",
        "--location",
        `file://${scratch}/backups`,
        "--password-file",
        join(scratch, "password"),
      ],
      { ...process.env, KUBECONFIG: env.cluster.kubeconfigPath },
    );
    assert.equal(install.code, 0, install.stderr);
    kubeconfig = await serviceAccountKubeconfig(
      admin,
      ns,
      join(scratch, "agent.kubeconfig"),
      "arca-node-agent",
    );
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    const rbac = admin?.makeApiClient(RbacAuthorizationV1Api);
    for (const name of [`arca-${ns}`, `arca-${ns}-node-agent`]) {
      await rbac?.deleteClusterRoleBinding({ name }).catch(() => undefined);
      await rbac?.deleteClusterRole({ name }).catch(() => undefined);
    }
    await admin
      ?.makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
    await env?.stop();
  });

  it("is ready while it can read the pod directory, says so, and stops on SIGTERM", async () => {
    mkdirSync(podDir, { recursive: true });
    const port = await freePort();
    const agent = spawn(
      process.execPath,
      [
        ...["--import", "tsx", main, "--kubeconfig", kubeconfig, "-n", ns, "node-agent"],
        ...["--pod-dir", podDir, "--metrics-bind-address", `127.0.0.1:${port}`],
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NAME: "test-node-1" } },
    );
    let output = "";
    agent.stdout.on("data", (d: Buffer) => (output += d.toString()));
    agent.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => agent.once("exit", resolve));
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    try {
      await eventually("the node agent's /readyz", async () => (await get("/readyz")).status === 200, 30_000);
      assert.match(output, new RegExp(`node agent on test-node-1 ready; pod directory ${podDir}`));
      assert.equal((await get("/healthz")).status, 200);
      assert.match((await get("/metrics")).text, /^arca_node_agent_pod_directory_readable 1$/m);

      // Registered where an operator looks: an Event on the DaemonSet, written with the agent's own token.
      const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
      const ready = events.items.filter((e) => e.reason === "NodeAgentReady");
      assert.deepEqual(
        ready.map((e) => [e.involvedObject.kind, e.involvedObject.name, e.message]),
        [["DaemonSet", "node-agent", `node agent on test-node-1 ready; pod directory ${podDir}`]],
      );

      rmSync(podDir, { recursive: true });
      const gone = await get("/readyz");
      assert.equal(gone.status, 503);
      assert.match(gone.text, new RegExp(`pod directory ${podDir} cannot be read`));
      assert.match((await get("/metrics")).text, /^arca_node_agent_pod_directory_readable 0$/m);
      assert.equal((await get("/healthz")).status, 200, "alive, only not ready");

      mkdirSync(podDir);
      assert.equal((await get("/readyz")).status, 200);
    } finally {
      agent.kill("SIGTERM");
    }
    assert.equal(await exited, 0, output);
    assert.match(output, /node agent stopping/);
  });

  it("refuses to start without its node name or without the pod directory, and says what to do", async () => {
    const env0: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
    delete env0.NODE_NAME;
    const anonymous = await runArca(["-n", ns, "node-agent", "--pod-dir", scratch], env0);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /the node agent does not know its node/);
    assert.match(anonymous.stderr, /NODE_NAME/);

    const missing = join(scratch, "no-such-kubelet", "pods");
    const blind = await runArca(
      ["-n", ns, "node-agent", "--pod-dir", missing, "--metrics-bind-address", "127.0.0.1:0"],
      {
        ...env0,
        NODE_NAME: "test-node-2",
      },
    );
    assert.notEqual(blind.code, 0);
    assert.match(
      blind.stderr,
      new RegExp(`node agent on test-node-2: pod directory ${missing} cannot be read`),
    );
    assert.match(blind.stderr, /--kubelet-root-dir/);
  });

  it("its ServiceAccount reads Pods everywhere and Secrets only in its namespace, and changes nothing else", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await core.listPodForAllNamespaces();
    await core.listPersistentVolume();
    await core.readNamespacedSecret({ name: "arca-repository-password", namespace: ns });
    const forbidden = (p: Promise<unknown>) => assert.rejects(p, (err) => statusOf(err) === 403);
    await forbidden(core.listNamespacedSecret({ namespace: "kube-system" }));
    await forbidden(core.deleteCollectionNamespacedPod({ namespace: ns, dryRun: "All" }));
    await forbidden(
      core.createNamespacedSecret({ namespace: ns, dryRun: "All", body: { metadata: { name: "x" } } }),
    );
  });
});
