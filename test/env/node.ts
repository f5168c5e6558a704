// A real worker node for a test cluster: containerd (Debian's 1.6, with its own config, socket
// and state under the node's folder), runc, the CNI bridge plugin, the kubelet built with the
// other Kubernetes binaries, and a small provisioner of host-folder volumes. Every workaround
// this machine needs is from ../../../shared/reference/real-node.md and is explained where it is made.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubernetesBinaries } from "./binaries.js";
import { claimNodeSlot, recordSlotPids, releaseNodeSlot, setUpNodeNetwork, type NodeSlot } from "./host.js";
import { cniConfig, containerdConfig, kubeletConfig } from "./node-config.js";
import { arcaImage, importImage, workloadImage } from "./images.js";
import { clientKubeconfig, type ClusterPki, type NodePki } from "./pki.js";
import { freePorts } from "./ports.js";
import { httpGet } from "./probe.js";
import { isAlive, startProcess, stopPid, waitUntil, type ManagedProcess } from "./proc.js";

/** The StorageClass whose claims get a folder on the node (test/env/provisioner.ts). */
export const LOCAL_STORAGE_CLASS = "arca-local";
export const LOCAL_PROVISIONER = "arca.local/host-folder";

/** What a node is, in a form that the environment's state file can carry to `env:down`. */
export interface NodeInfo {
  nodeName: string;
  dir: string;
  slot: NodeSlot;
  containerdSocket: string;
  /** The kubelet's --root-dir: pods' volumes are under <kubeletRootDir>/pods. */
  kubeletRootDir: string;
  /** Where the provisioner makes the volumes' folders. */
  volumesDir: string;
  storageClass: string;
  /** A small image with a shell, for test workloads (imagePullPolicy: Never). */
  workloadImage: string;
  /** Arca's own image, imported into the node. */
  arcaImage: string;
  pids: number[];
}

export interface NodeOptions {
  clusterName: string;
  dir: string;
  server: string;
  apiserverPort: number;
  pki: ClusterPki;
  nodePki: NodePki;
  bins: KubernetesBinaries;
  detached: boolean;
  /** The kubernetes Service's address, which pods dial. */
  serviceIp: string;
}

function log(message: string): void {
  process.stderr.write(`[test-env] ${message}\n`);
}

/**
 * A loopback URL (the S3 server's, a fault proxy's) as Pods on the node reach it: at the node's
 * gateway address, which the host reaches too (host.ts), so the same URL works on both sides.
 */
export function reachableFromPods(url: string, node: NodeInfo): string {
  const u = new URL(url);
  if (u.hostname !== "127.0.0.1" && u.hostname !== "localhost")
    throw new Error(`${url} is not a loopback URL; only those are forwarded to the node's pods`);
  u.hostname = node.slot.gateway;
  return u.toString().replace(/\/$/, "");
}

/** The name the apiserver dials the kubelet by: it must resolve to 127.0.0.1 (traffic stays on loopback). */
export function nodeName(): string {
  const name = hostname();
  try {
    const resolved = execFileSync("getent", ["ahostsv4", name], { encoding: "utf8" }).split(/\s+/)[0];
    if (resolved === "127.0.0.1") return name;
  } catch {
    /* not resolvable */
  }
  return "localhost";
}

/** The apiserver flags a cluster with a node needs (real-node.md, "Auth" and "Traffic stays on 127.0.0.1"). */
export function nodeApiserverArgs(pki: ClusterPki, nodePki: NodePki): string[] {
  return [
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    `--kubelet-client-certificate=${nodePki.apiserverKubeletClientCert}`,
    `--kubelet-client-key=${nodePki.apiserverKubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    // The kubelet refuses a loopback node IP, so its InternalIP is the machine's; the node's
    // name resolves to 127.0.0.1, and dialling by Hostname keeps exec and logs on loopback.
    "--kubelet-preferred-address-types=Hostname",
  ];
}

function ctr(socket: string, args: string[]): string {
  return execFileSync("ctr", ["--address", socket, "-n", "k8s.io", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Starts containerd, the kubelet and the provisioner; resolves when the node is Ready. */
export async function startNode(o: NodeOptions): Promise<{ info: NodeInfo; stop: () => Promise<void> }> {
  if (process.getuid?.() !== 0)
    throw new Error("a test node needs root (containerd, runc, mounts, cgroups); run the tests as root");
  const name = nodeName();
  const dir = join(o.dir, "node");
  mkdirSync(dir, { recursive: true });
  const slot = claimNodeSlot(dir);
  const processes: ManagedProcess[] = [];
  const socket = join(dir, "run", "containerd.sock");
  const info: NodeInfo = {
    nodeName: name,
    dir,
    slot,
    containerdSocket: socket,
    kubeletRootDir: join(dir, "kubelet"),
    volumesDir: join(dir, "volumes"),
    storageClass: LOCAL_STORAGE_CLASS,
    workloadImage: "",
    arcaImage: "",
    pids: [],
  };
  const stop = async () => {
    const problems = await stopNode(info, processes);
    if (problems.length) log(`${o.clusterName}: the node did not stop cleanly: ${problems.join("; ")}`);
  };
  try {
    const [workload, arca] = await Promise.all([workloadImage(), arcaImage()]);
    info.workloadImage = workload.ref;
    info.arcaImage = arca.ref;
    setUpNodeNetwork(slot, o.serviceIp, o.apiserverPort);
    for (const d of ["run", "containerd", "cni/net.d", "cni/ipam", "kubelet", "pod-logs", "volumes"])
      mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "cni", "net.d", "10-arca.conflist"), cniConfig(slot, dir, `${o.serviceIp}/32`));
    writeFileSync(join(dir, "containerd", "config.toml"), containerdConfig(dir, workload.ref));

    const containerd = startProcess({
      name: `${o.clusterName}/containerd`,
      command: "containerd",
      args: ["--config", join(dir, "containerd", "config.toml")],
      logFile: join(o.dir, "containerd.log"),
      detached: o.detached,
    });
    processes.push(containerd);
    await waitUntil(
      containerd,
      "containerd's socket",
      async () => {
        ctr(socket, ["version"]);
        return true;
      },
      30_000,
    );
    await importImage(workload.tarPath, socket);
    await importImage(arca.tarPath, socket);

    const [port, healthzPort] = (await freePorts(2)) as [number, number];
    const kubeconfig = join(dir, "kubelet.kubeconfig");
    writeFileSync(
      kubeconfig,
      clientKubeconfig(
        o.pki.caCert,
        { cert: o.nodePki.kubeletClientCert, key: o.nodePki.kubeletClientKey },
        o.server,
        o.clusterName,
        "kubelet",
      ),
      { mode: 0o600 },
    );
    writeFileSync(
      join(dir, "kubelet-config.yaml"),
      kubeletConfig({ dir, slot, socket, port, healthzPort, nodePki: o.nodePki, caCert: o.pki.caCert }),
    );
    const kubelet = startProcess({
      name: `${o.clusterName}/kubelet`,
      command: o.bins.kubelet,
      args: [
        `--config=${join(dir, "kubelet-config.yaml")}`,
        `--kubeconfig=${kubeconfig}`,
        `--root-dir=${info.kubeletRootDir}`,
        `--hostname-override=${name}`,
        "--v=1",
      ],
      logFile: join(o.dir, "kubelet.log"),
      detached: o.detached,
    });
    processes.push(kubelet);
    await waitUntil(
      kubelet,
      "the kubelet's /healthz",
      async () => (await httpGet(`http://127.0.0.1:${healthzPort}/healthz`)).status === 200,
      120_000,
    );

    const provisioner = startProcess({
      name: `${o.clusterName}/provisioner`,
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        new URL("./provisioner.ts", import.meta.url).pathname,
        join(o.dir, "kubeconfig"),
        name,
        info.volumesDir,
      ],
      logFile: join(o.dir, "provisioner.log"),
      detached: o.detached,
      cwd: new URL("../..", import.meta.url).pathname,
    });
    processes.push(provisioner);
    info.pids = processes.map((p) => p.pid);
    recordSlotPids(slot, dir, info.pids);
  } catch (err) {
    await stop();
    throw err;
  }
  return { info, stop };
}

/** Processes still using the node's folder: shims and containers that outlived containerd. */
function leftoverProcesses(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(dir)) found.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return found.filter((pid) => pid !== process.pid);
}

function mountsUnder(dir: string): string[] {
  const mounts = execFileSync("findmnt", ["-rn", "-o", "TARGET"], { encoding: "utf8" }).split("\n");
  return mounts
    .map((m) => m.replace(/\\x20/g, " "))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

/**
 * Stops a node and undoes what it did to the host: its containers first (through containerd,
 * so that shims and mounts go), then the daemons by PID, leftover mounts, the kubelet's log
 * links, and its slot (bridge, NAT, cgroups; the host's sysctls and chains with the last node).
 * Returns what could not be undone.
 */
export async function stopNode(info: NodeInfo, processes: ManagedProcess[] = []): Promise<string[]> {
  const problems: string[] = [];
  const stopByPid = async (pid: number) => {
    const p = processes.find((x) => x.pid === pid);
    if (p) await p.stop();
    else await stopPid(pid);
  };
  const [containerdPid, kubeletPid, provisionerPid] = info.pids.length
    ? info.pids
    : processes.map((p) => p.pid);
  // The kubelet first, so that it does not restart what is being killed.
  for (const pid of [provisionerPid, kubeletPid]) if (pid !== undefined) await stopByPid(pid);
  if (existsSync(info.containerdSocket) && containerdPid !== undefined && isAlive(containerdPid)) {
    try {
      for (const task of ctr(info.containerdSocket, ["tasks", "ls", "-q"]).split("\n").filter(Boolean))
        try {
          ctr(info.containerdSocket, ["tasks", "kill", "-s", "SIGKILL", task]);
        } catch {
          /* already stopped */
        }
      await sleep(500);
      for (const task of ctr(info.containerdSocket, ["tasks", "ls", "-q"]).split("\n").filter(Boolean))
        try {
          ctr(info.containerdSocket, ["tasks", "delete", "-f", task]);
        } catch {
          /* gone */
        }
    } catch (err) {
      problems.push(`listing containerd's tasks: ${(err as Error).message}`);
    }
  }
  if (containerdPid !== undefined) await stopByPid(containerdPid);
  // Shims of a containerd that was killed hard carry its socket's path in their command line.
  for (const pid of leftoverProcesses(info.dir)) await stopPid(pid, 2000);
  for (const m of mountsUnder(info.dir)) {
    try {
      execFileSync("umount", ["-l", m], { stdio: "ignore" });
    } catch {
      problems.push(`could not unmount ${m}`);
    }
  }
  if (existsSync("/var/log/containers")) {
    for (const link of readdirSync("/var/log/containers")) {
      const path = join("/var/log/containers", link);
      try {
        if (readlinkSync(path).startsWith(info.dir)) rmSync(path, { force: true });
      } catch {
        /* not a link */
      }
    }
  }
  problems.push(...releaseNodeSlot(info.slot));
  if (mountsUnder(info.dir).length === 0) rmSync(info.dir, { recursive: true, force: true });
  else problems.push(`mounts remain under ${info.dir}`);
  return problems;
}
