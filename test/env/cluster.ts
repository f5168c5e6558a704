// A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, service-account
// token signing, an admin client certificate) and kube-controller-manager; with `node: true`
// also kube-scheduler and a real worker node (test/env/node.ts), where Pods run. Without a
// node (faster to start), Pods are created and scheduled nowhere: they stay Pending.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { kubernetesBinaries, type KubernetesBinaries } from "./binaries.js";
import {
  LOCAL_PROVISIONER,
  LOCAL_STORAGE_CLASS,
  nodeApiserverArgs,
  nodeName,
  startNode,
  type NodeInfo,
} from "./node.js";
import { adminKubeconfig, createClusterPki, createNodePki, type ClusterPki } from "./pki.js";
import { freePorts } from "./ports.js";
import { httpGet } from "./probe.js";
import { startProcess, waitUntil, type ManagedProcess } from "./proc.js";

export interface ClusterOptions {
  name?: string;
  /** Where state, certificates and logs go; a new temporary directory by default. */
  dir?: string;
  /** Keep the processes running after this Node process exits (env:up). */
  detached?: boolean;
  /** More kube-apiserver flags, for tests that need a differently configured server. */
  apiserverArgs?: string[];
  /** A scheduler and a worker node, so that Pods run (root only; slower to start). */
  node?: boolean;
}

/** What a cluster is, in a form that a state file can carry to another process. */
export interface ClusterInfo {
  name: string;
  version: string;
  server: string;
  dir: string;
  kubeconfigPath: string;
  /** etcd's client URL, for tests that compact it (expiring continue tokens). */
  etcdUrl: string;
  pids: number[];
  /** The worker node, on a cluster started with one. */
  node?: NodeInfo;
}

export interface Cluster extends ClusterInfo {
  kubeConfig(): KubeConfig;
  /** Stops the processes, if this handle owns them; a no-op on a shared cluster's handle. */
  stop(): Promise<void>;
  /**
   * Stops kube-apiserver and starts it again on the same port after `downMs`, as an upgrade
   * or a crash would. Only on a cluster this handle started.
   */
  restartApiserver(downMs?: number): Promise<void>;
}

export function clusterHandle(
  info: ClusterInfo,
  stop: () => Promise<void>,
  restartApiserver: (downMs?: number) => Promise<void> = async () => {
    throw new Error("only a cluster started by this process can restart its API server");
  },
): Cluster {
  return {
    restartApiserver,
    ...info,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(info.kubeconfigPath);
      return kc;
    },
    stop,
  };
}

const START_TIMEOUT_MS = 120_000;

/** The kubernetes Service's address: the first of --service-cluster-ip-range. */
const SERVICE_IP = "10.0.0.1";

function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    "--name=default",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Test data is thrown away: durability only costs time here.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

function apiserverArgs(pki: ClusterPki, dir: string, port: number, etcdPort: number): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // The endpoint reconciler refuses loopback addresses; nothing in-cluster dials the
    // apiserver here (no Pod ever runs), so the kubernetes Service simply has no endpoints.
    "--endpoint-reconciler-type=none",
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--authorization-mode=RBAC",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    "--allow-privileged=true",
    "--v=1",
  ];
}

/** What kube-scheduler and kube-controller-manager share: the admin identity and a loopback port. */
function componentArgs(kubeconfig: string, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    "--leader-elect=false",
    "--v=1",
  ];
}

/** Claims of this class get a folder on the node once their Pod is scheduled (test/env/provisioner.ts). */
function localStorageClass(): string {
  return JSON.stringify({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: LOCAL_STORAGE_CLASS },
    provisioner: LOCAL_PROVISIONER,
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  });
}

function controllerManagerArgs(pki: ClusterPki, dir: string, kubeconfig: string, port: number): string[] {
  return [
    ...componentArgs(kubeconfig, port, join(dir, "controller-manager-certs")),
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
  ];
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const bins: KubernetesBinaries = await kubernetesBinaries();
  const name = options.name ?? "arca-test";
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `arca-${name}-`));
  mkdirSync(dir, { recursive: true });
  const ownsDir = options.dir === undefined;
  const pki = createClusterPki(join(dir, "pki"));
  const nodePki = options.node ? createNodePki(pki, nodeName()) : undefined;
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, adminKubeconfig(pki, server, name), { mode: 0o600 });

  const processes: ManagedProcess[] = [];
  let node: { info: NodeInfo; stop: () => Promise<void> } | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await node?.stop();
      // Reverse order: controllers first, storage last.
      for (const p of [...processes].reverse()) await p.stop();
      if (ownsDir && !process.env.ARCA_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    })());
  const detached = options.detached ?? false;
  const adminTls = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
  let apiserverIndex = -1;
  const startApiserver = async () => {
    const apiserver = startProcess({
      name: `${name}/kube-apiserver`,
      command: bins.apiserver,
      args: [
        // A node's flags replace the authorization mode (Node,RBAC) rather than add a second one.
        ...(nodePki
          ? [
              ...apiserverArgs(pki, dir, apiPort, etcdClient).filter(
                (a) => !a.startsWith("--authorization-mode="),
              ),
              ...nodeApiserverArgs(pki, nodePki),
            ]
          : apiserverArgs(pki, dir, apiPort, etcdClient)),
        ...(options.apiserverArgs ?? []),
      ],
      logFile: join(dir, "kube-apiserver.log"),
      detached,
    });
    if (apiserverIndex < 0) apiserverIndex = processes.push(apiserver) - 1;
    else processes[apiserverIndex] = apiserver;
    await waitUntil(
      apiserver,
      "kube-apiserver /readyz",
      async () => (await httpGet(`${server}/readyz`, adminTls)).status === 200,
      START_TIMEOUT_MS,
    );
  };
  const restartApiserver = async (downMs = 0) => {
    await processes[apiserverIndex]?.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await startApiserver();
  };
  try {
    const etcd = startProcess({
      name: `${name}/etcd`,
      command: bins.etcd,
      args: etcdArgs(join(dir, "etcd"), etcdClient, etcdPeer),
      logFile: join(dir, "etcd.log"),
      detached,
    });
    processes.push(etcd);
    await waitUntil(
      etcd,
      "etcd health",
      async () => (await httpGet(`http://127.0.0.1:${etcdClient}/health`)).status === 200,
      START_TIMEOUT_MS,
    );

    await startApiserver();

    const kcm = startProcess({
      name: `${name}/kube-controller-manager`,
      command: bins.controllerManager,
      args: controllerManagerArgs(pki, dir, kubeconfigPath, kcmPort),
      logFile: join(dir, "kube-controller-manager.log"),
      detached,
    });
    processes.push(kcm);
    await waitUntil(
      kcm,
      "kube-controller-manager /healthz",
      async () => (await httpGet(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200,
      START_TIMEOUT_MS,
    );
    // The service-account controller creating "default" shows the controllers are at work;
    // without it no Pod can be created.
    await waitUntil(
      kcm,
      "the default ServiceAccount (controllers running)",
      async () =>
        (await httpGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls)).status ===
        200,
      START_TIMEOUT_MS,
    );
    if (nodePki) {
      const scheduler = startProcess({
        name: `${name}/kube-scheduler`,
        command: bins.scheduler,
        args: componentArgs(kubeconfigPath, schedulerPort, join(dir, "scheduler-certs")),
        logFile: join(dir, "kube-scheduler.log"),
        detached,
      });
      processes.push(scheduler);
      await waitUntil(
        scheduler,
        "kube-scheduler /healthz",
        async () =>
          (await httpGet(`https://127.0.0.1:${schedulerPort}/healthz`, { insecure: true })).status === 200,
        START_TIMEOUT_MS,
      );
      node = await startNode({
        clusterName: name,
        dir,
        server,
        apiserverPort: apiPort,
        pki,
        nodePki,
        bins,
        detached,
        serviceIp: SERVICE_IP,
      });
      const kubectl = (args: string[], input?: string) =>
        execFileSync(bins.kubectl, [`--kubeconfig=${kubeconfigPath}`, ...args], {
          input,
          encoding: "utf8",
          stdio: ["pipe", "pipe", "pipe"],
        });
      kubectl(["apply", "-f", "-"], localStorageClass());
      await waitUntil(
        scheduler,
        `node ${node.info.nodeName} Ready`,
        async () =>
          kubectl([
            "get",
            "node",
            node!.info.nodeName,
            "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ]) === "True",
        START_TIMEOUT_MS,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return clusterHandle(
    {
      name,
      version: bins.version,
      server,
      dir,
      kubeconfigPath,
      etcdUrl: `http://127.0.0.1:${etcdClient}`,
      // The PIDs at start; a restarted apiserver is stopped through `stop`, not this list.
      pids: processes.map((p) => p.pid),
      node: node?.info,
    },
    stop,
    restartApiserver,
  );
}
