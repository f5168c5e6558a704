// What a test node changes on the host, and how it is put back. The kubelet rewrites a few
// sysctls, adds iptables chains and uses hard-coded folders outside its root directory; each
// node adds a bridge, a cgroup root and a NAT rule of its own. Several nodes (two clusters at
// once, or two test processes) can be up together, so the host's originals are saved by the
// first node up and restored by the last one down, under a lock, in a registry in /run.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { isAlive } from "./proc.js";

const REGISTRY = "/run/arca-test-nodes";

/** The sysctls the kubelet sets when protectKernelDefaults is off. */
const SYSCTLS = [
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
];

/** The chains kubelet_network_linux.go makes: table, chain, for iptables and ip6tables. */
const KUBELET_CHAINS: Array<[command: string, table: string, chain: string]> = [
  ["iptables", "filter", "KUBE-FIREWALL"],
  ...(["iptables", "ip6tables"] as const).flatMap((c) => [
    [c, "mangle", "KUBE-IPTABLES-HINT"] as [string, string, string],
    ...(["mangle", "nat", "filter"] as const).map(
      (t) => [c, t, "KUBE-KUBELET-CANARY"] as [string, string, string],
    ),
  ]),
];

/** Paths the kubelet and containerd 1.6 use whatever their root directories are. */
const HARD_CODED_DIRS = ["/var/log/containers", "/var/lib/kubelet", "/run/containerd"];

/** cgroup v1 hierarchies in which each node gets its own root (pods of one kubelet are never seen by another). */
const CGROUP_BASE = "/sys/fs/cgroup";

interface HostOriginals {
  sysctls: Record<string, string>;
  chains: string[];
  createdDirs: string[];
}

export interface NodeSlot {
  index: number;
  /** The node's bridge: the pods' network, with the node's gateway address. */
  bridge: string;
  podCidr: string;
  gateway: string;
  /** Relative to each cgroup hierarchy, e.g. "/arca-node-0". */
  cgroupRoot: string;
}

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function trySh(command: string, args: string[]): boolean {
  try {
    sh(command, args);
    return true;
  } catch {
    return false;
  }
}

function readSysctl(key: string): string {
  return readFileSync(`/proc/sys/${key.replace(/\./g, "/")}`, "utf8").trim();
}

function chainKey([command, table, chain]: [string, string, string]): string {
  return `${command}/${table}/${chain}`;
}

function chainExists(c: [string, string, string]): boolean {
  return trySh(c[0], ["-w", "5", "-t", c[1], "-S", c[2]]);
}

function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** A lock on the registry: nodes start and stop from several processes. */
function withRegistryLock<T>(fn: () => T): T {
  mkdirSync(REGISTRY, { recursive: true });
  const lock = join(REGISTRY, "lock");
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        /* being written */
      }
      if (Number.isInteger(holder) && !isAlive(holder)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`the node registry lock ${lock} has been held for a minute by process ${holder}`);
      else execFileSync("sleep", ["0.1"]);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

interface SlotRecord {
  dir: string;
  pids: number[];
}

function slotFile(index: number): string {
  return join(REGISTRY, `slot-${index}.json`);
}

function liveSlots(): number[] {
  return readdirSync(REGISTRY)
    .map((f) => /^slot-(\d+)\.json$/.exec(f)?.[1])
    .filter((i): i is string => i !== undefined)
    .map(Number)
    .filter((i) => {
      try {
        const record = JSON.parse(readFileSync(slotFile(i), "utf8")) as SlotRecord;
        return record.pids.some(isAlive);
      } catch {
        return false;
      }
    });
}

function slotFor(index: number): NodeSlot {
  return {
    index,
    bridge: `arcabr${index}`,
    podCidr: `10.${100 + index}.0.0/16`,
    gateway: `10.${100 + index}.0.1`,
    cgroupRoot: `/arca-node-${index}`,
  };
}

function cgroupHierarchies(): string[] {
  return readdirSync(CGROUP_BASE).filter(
    (h) => h !== "unified" && statSync(join(CGROUP_BASE, h)).isDirectory(),
  );
}

/** The node's cgroup root in every v1 hierarchy; a new cpuset needs its parent's cpus and mems. */
function makeCgroupRoot(root: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(CGROUP_BASE, h, root);
    mkdirSync(dir, { recursive: true });
    if (h === "cpuset") {
      for (const f of ["cpuset.cpus", "cpuset.mems"])
        writeFileSync(join(dir, f), readFileSync(join(CGROUP_BASE, h, f), "utf8"));
    }
  }
}

/** Removes a cgroup tree deepest first; a cgroup with processes left in it stays and is named. */
function removeCgroupTree(dir: string, left: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name), left);
  try {
    rmdirSync(dir);
  } catch {
    left.push(dir);
  }
}

/**
 * Claims a slot for a node (its bridge, pod network and cgroup root), saving the host's
 * originals if it is the first node up. `pids` are the processes whose life keeps the slot.
 */
export function claimNodeSlot(dir: string): NodeSlot {
  return withRegistryLock(() => {
    const live = liveSlots();
    for (const f of readdirSync(REGISTRY)) {
      const i = /^slot-(\d+)\.json$/.exec(f)?.[1];
      if (i === undefined || live.includes(Number(i))) continue;
      // A node whose processes were killed without a stop (a run killed hard): undo its share.
      removeSlotResources(slotFor(Number(i)));
      rmSync(join(REGISTRY, f), { force: true });
    }
    const originals = join(REGISTRY, "originals.json");
    if (live.length === 0 || !existsSync(originals)) {
      const saved: HostOriginals = {
        sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, readSysctl(k)])),
        chains: KUBELET_CHAINS.filter(chainExists).map(chainKey),
        createdDirs: HARD_CODED_DIRS.filter((d) => !existsSync(d)),
      };
      // A registry left by a killed run keeps the originals it saw, not what the dead node left.
      if (!existsSync(originals)) writeFileSync(originals, JSON.stringify(saved, null, 2));
    }
    let index = 0;
    while (live.includes(index) || linkExists(slotFor(index).bridge)) index++;
    if (index > 99) throw new Error("100 test nodes are registered in /run/arca-test-nodes; stop some first");
    const record: SlotRecord = { dir, pids: [process.pid] };
    writeFileSync(slotFile(index), JSON.stringify(record));
    const slot = slotFor(index);
    makeCgroupRoot(slot.cgroupRoot);
    return slot;
  });
}

/** The processes that keep a slot taken (the node's daemons, for a node that outlives its starter). */
export function recordSlotPids(slot: NodeSlot, dir: string, pids: number[]): void {
  withRegistryLock(() =>
    writeFileSync(slotFile(slot.index), JSON.stringify({ dir, pids } satisfies SlotRecord)),
  );
}

/** Brings up the node's bridge with its gateway, and routes the `kubernetes` Service to the apiserver. */
export function setUpNodeNetwork(slot: NodeSlot, serviceIp: string, apiserverPort: number): void {
  const { bridge, gateway } = slot;
  if (!linkExists(bridge)) sh("ip", ["link", "add", bridge, "type", "bridge"]);
  trySh("ip", ["addr", "add", `${gateway}/16`, "dev", bridge]);
  sh("ip", ["link", "set", bridge, "up"]);
  // The apiserver listens on 127.0.0.1 only. Pods reach it at the kubernetes Service's address,
  // DNATed to loopback (as kube-proxy does for localhost node ports); route_localnet lets the
  // bridge carry 127/8 and dies with the bridge. Only this bridge's packets are touched.
  writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, "1");
  const chain = natChain(slot);
  trySh("iptables", ["-w", "5", "-t", "nat", "-N", chain]);
  sh("iptables", ["-w", "5", "-t", "nat", "-F", chain]);
  sh("iptables", [
    "-w", "5", "-t", "nat", "-A", chain, "-i", bridge, "-d", serviceIp, "-p", "tcp", "--dport", "443",
    "-j", "DNAT", "--to-destination", `127.0.0.1:${apiserverPort}`,
  ]); // prettier-ignore
  // The host's loopback servers (the S3 server, say) are at the gateway's address for pods and
  // for the host alike, so one location URL works from the CLI and from a Pod.
  sh("iptables", [
    "-w", "5", "-t", "nat", "-A", chain, "-i", bridge, "-d", gateway, "-p", "tcp",
    "-j", "DNAT", "--to-destination", "127.0.0.1",
  ]); // prettier-ignore
  sh("iptables", [
    "-w", "5", "-t", "nat", "-A", chain, "-o", "lo", "-d", gateway, "-p", "tcp",
    "-j", "DNAT", "--to-destination", "127.0.0.1",
  ]); // prettier-ignore
  for (const hook of ["PREROUTING", "OUTPUT"])
    if (!trySh("iptables", ["-w", "5", "-t", "nat", "-C", hook, "-j", chain]))
      sh("iptables", ["-w", "5", "-t", "nat", "-A", hook, "-j", chain]);
}

function natChain(slot: NodeSlot): string {
  return `ARCA-NODE-${slot.index}`;
}

function removeNodeNetwork(slot: NodeSlot): void {
  const chain = natChain(slot);
  for (const hook of ["PREROUTING", "OUTPUT"])
    while (trySh("iptables", ["-w", "5", "-t", "nat", "-D", hook, "-j", chain]));
  trySh("iptables", ["-w", "5", "-t", "nat", "-F", chain]);
  trySh("iptables", ["-w", "5", "-t", "nat", "-X", chain]);
  if (linkExists(slot.bridge)) trySh("ip", ["link", "del", slot.bridge]);
}

/** A slot's bridge, NAT chain and cgroup root; returns the cgroups that still hold processes. */
function removeSlotResources(slot: NodeSlot): string[] {
  removeNodeNetwork(slot);
  const left: string[] = [];
  for (const h of cgroupHierarchies()) removeCgroupTree(join(CGROUP_BASE, h, slot.cgroupRoot), left);
  return left.map((d) => `cgroup ${d} still has processes`);
}

function restoreHost(saved: HostOriginals): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(saved.sysctls)) {
    if (readSysctl(key) !== value && !trySh("sysctl", ["-q", "-w", `${key}=${value}`]))
      problems.push(`could not restore ${key}=${value}`);
  }
  // The kubelet's chains, where they were not there before: jumps first, then the chains.
  if (!saved.chains.includes("iptables/filter/KUBE-FIREWALL")) {
    for (const hook of ["INPUT", "OUTPUT"])
      while (trySh("iptables", ["-w", "5", "-D", hook, "-j", "KUBE-FIREWALL"]));
  }
  for (const c of KUBELET_CHAINS) {
    if (saved.chains.includes(chainKey(c)) || !chainExists(c)) continue;
    trySh(c[0], ["-w", "5", "-t", c[1], "-F", c[2]]);
    if (!trySh(c[0], ["-w", "5", "-t", c[1], "-X", c[2]])) problems.push(`could not remove ${chainKey(c)}`);
  }
  for (const dir of saved.createdDirs) rmSync(dir, { recursive: true, force: true });
  return problems;
}

/**
 * Gives a slot back: its bridge, NAT rule and cgroup root go; the last node down puts back the
 * host's sysctls, iptables chains and folders. Returns what could not be undone, for the caller
 * to report.
 */
export function releaseNodeSlot(slot: NodeSlot): string[] {
  return withRegistryLock(() => {
    const problems = removeSlotResources(slot);
    rmSync(slotFile(slot.index), { force: true });
    const originals = join(REGISTRY, "originals.json");
    if (liveSlots().length === 0 && existsSync(originals)) {
      problems.push(...restoreHost(JSON.parse(readFileSync(originals, "utf8")) as HostOriginals));
      rmSync(originals, { force: true });
    }
    return problems;
  });
}

/** What a test compares before and after nodes come and go. */
export interface HostState {
  sysctls: Record<string, string>;
  chains: string[];
  bridges: string[];
  dirs: string[];
  cgroupRoots: string[];
  natChains: string[];
}

export function hostState(): HostState {
  const nat = trySh("iptables", ["-w", "5", "-t", "nat", "-S"])
    ? sh("iptables", ["-w", "5", "-t", "nat", "-S"])
    : "";
  return {
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, readSysctl(k)])),
    chains: KUBELET_CHAINS.filter(chainExists).map(chainKey),
    bridges: readdirSync("/sys/class/net").filter((n) => n.startsWith("arcabr")),
    dirs: HARD_CODED_DIRS.filter((d) => existsSync(d)),
    cgroupRoots: cgroupHierarchies().flatMap((h) =>
      readdirSync(join(CGROUP_BASE, h))
        .filter((n) => n.startsWith("arca-node-"))
        .map((n) => `${h}/${n}`),
    ),
    natChains: [...nat.matchAll(/^-N (ARCA-NODE-\d+)$/gm)].map((m) => m[1] as string),
  };
}

/**
 * The hard-coded folders that nodes created and the last node down removes: while another node
 * runs, one of them may appear (containerd makes /run/containerd with its first shim).
 */
export function foldersForLastNode(): string[] {
  const originals = join(REGISTRY, "originals.json");
  if (!existsSync(originals)) return [];
  return (JSON.parse(readFileSync(originals, "utf8")) as HostOriginals).createdDirs;
}
