// The test node is a real one: a Pod runs, exec and logs work, a claim of the local class gets a
// folder on the host that the Pod writes into, a DaemonSet is placed, and Pods reach the API
// server. Stopping the node leaves the host as it was. This file starts a private cluster with
// a node while the shared one (with its own) may be up: two nodes at once.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { forPersistentVolumeClaim, forPod } from "../builders/index.js";
import { eventually } from "../support/wait.js";
import { kubernetesBinaries } from "./binaries.js";
import { startCluster, type Cluster } from "./cluster.js";
import { foldersForLastNode, hostState, type HostState } from "./host.js";
import { isAlive } from "./proc.js";

function kubectlFor(cluster: Cluster, kubectl: string) {
  return (args: string[], input?: string): string =>
    execFileSync(kubectl, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args], {
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
}

function mountsUnder(dir: string): string[] {
  return execFileSync("findmnt", ["-rn", "-o", "TARGET"], { encoding: "utf8" })
    .split("\n")
    .filter((m) => m.startsWith(dir));
}

describe("test node", () => {
  let before_: HostState;
  let cluster: Cluster;
  let kubectl: (args: string[], input?: string) => string;
  const ns = "node-check";

  before(async () => {
    before_ = hostState();
    cluster = await startCluster({ name: "node-check", node: true });
    kubectl = kubectlFor(cluster, (await kubernetesBinaries()).kubectl);
    kubectl(["create", "namespace", ns]);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("runs a Pod with a provisioned volume; exec, logs and the API server work from it", async () => {
    const node = cluster.node!;
    const image = node.workloadImage;
    const claim = forPersistentVolumeClaim(ns, "data").storageClass(node.storageClass).result();
    const pod = forPod(ns, "app")
      .runs(image, "sh", "-c", "echo hello-from-app; date > /data/pod.txt; exec sleep 2147483647")
      .claim("data", "data")
      .mount("data", "/data")
      .result();
    kubectl(["apply", "-f", "-"], JSON.stringify({ kind: "List", apiVersion: "v1", items: [claim, pod] }));
    kubectl(["-n", ns, "wait", "pod/app", "--for=condition=Ready", "--timeout=120s"]);

    assert.equal(kubectl(["-n", ns, "get", "pvc", "data", "-o", "jsonpath={.status.phase}"]), "Bound");
    const folders = readdirSync(node.volumesDir).filter((f) => f.startsWith(`${ns}_data_`));
    assert.equal(folders.length, 1, "one folder was provisioned for the claim");
    assert.match(readFileSync(join(node.volumesDir, folders[0]!, "pod.txt"), "utf8"), /\d/);

    assert.equal(kubectl(["-n", ns, "exec", "app", "--", "sh", "-c", "echo exec-ok"]), "exec-ok\n");
    await eventually("the Pod's log", async () =>
      kubectl(["-n", ns, "logs", "app"]).includes("hello-from-app"),
    );
    // The kubernetes Service's address leads to the API server (on 127.0.0.1 of the host): Go's
    // TLS server answers a plain HTTP request with a 400 that says so.
    const answer = kubectl([
      ...["-n", ns, "exec", "app", "--", "sh", "-c"],
      String.raw`printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 10.0.0.1 443`,
    ]);
    assert.match(answer, /Client sent an HTTP request to an HTTPS server/);
  });

  it("places a DaemonSet's Pod on the node", async () => {
    const image = cluster.node!.workloadImage;
    const ds = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { namespace: ns, name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: forPod(ns, "x").runs(image, "sh", "-c", "echo agent-up; exec sleep 2147483647").result().spec,
        },
      },
    };
    kubectl(["apply", "-f", "-"], JSON.stringify(ds));
    kubectl(["-n", ns, "rollout", "status", "ds/agent", "--timeout=120s"]);
    await eventually("the DaemonSet's log", async () =>
      kubectl(["-n", ns, "logs", "ds/agent"]).includes("agent-up"),
    );
  });

  it("leaves the host as it was when it stops", async () => {
    const node = cluster.node!;
    assert.ok(hostState().bridges.includes(node.slot.bridge), "the node's bridge is up while it runs");
    await cluster.stop();
    for (const pid of [...cluster.pids, ...node.pids])
      assert.equal(isAlive(pid), false, `process ${pid} stopped`);
    assert.deepEqual(mountsUnder(node.dir), []);
    assert.equal(existsSync(node.dir), false);
    const { dirs, ...after } = hostState();
    const { dirs: dirsBefore, ...before } = before_;
    assert.deepEqual(after, before);
    // Where another node runs (the shared one), the folders containerd or the kubelet made
    // lazily are put back by the last node down, and the test runner checks that at the end.
    const pending = foldersForLastNode();
    for (const d of dirs) assert.ok(dirsBefore.includes(d) || pending.includes(d), `${d} is left behind`);
  });
});
