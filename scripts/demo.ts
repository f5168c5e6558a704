// `npm run demo`: Arca's main job, end to end, on this machine. It starts a local cluster
// (test/env), deploys a sample application into namespace demo-shop, backs it up with the real
// CLI into a restic repository under ./arca-demo, and reads the snapshot back with restic itself.
// The cluster is new on every run and always stopped at the end (also on failure and Ctrl-C);
// the backups in ./arca-demo are kept, so each run adds one. The second act (demo-controller.ts)
// installs the in-cluster controller, runs it here, and has a schedule back up and a Restore
// object bring the shop back again.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { k8sVersion } from "../test/env/binaries.js";
import { startCluster, type Cluster } from "../test/env/cluster.js";
import { cacheRoot } from "../test/env/gobuild.js";
import { eventually } from "../test/support/wait.js";
import {
  APP,
  CLAIM,
  clusterObjects,
  CONFIG_MAP,
  NAMESPACE,
  VOLUME,
  namespacedObjects,
  WIDGET_CRD,
} from "./demo-shop.js";
import * as act2 from "./demo-controller.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// In the directory the demo is run from (the repository's root, under npm run).
const DEMO_DIR = resolve("arca-demo");
const REPO_DIR = join(DEMO_DIR, "repo");
/** The shop's volume: a folder on the node, kept in the demo's own folder. */
const SHOP_DATA = join(DEMO_DIR, "shop-data");
/** An image the node has (there is no registry), set once the cluster is up. */
let shopImage = "";
const PASSWORD_FILE = join(DEMO_DIR, "password");
const LOCATION = pathToFileURL(REPO_DIR).href;
// Unique per run, since the backups of earlier runs stay: shop-20260314-101530.
const BACKUP = `shop-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}`;

const say = (line = "") => process.stdout.write(`${line}\n`);
const shown = (path: string) => relative(process.cwd(), path) || ".";
const LOCATION_FLAGS = ["--location", LOCATION, "--password-file", shown(PASSWORD_FILE)];
const objectName = (o: KubernetesObject) =>
  `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;

// --- Steps and their failures ---------------------------------------------------------------

class StepFailed extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

let interrupted: NodeJS.Signals | undefined;

async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  if (interrupted) throw new StepFailed(title, `interrupted by ${interrupted}`);
  say();
  say(`==> ${title}`);
  try {
    return await work();
  } catch (err) {
    throw new StepFailed(title, err);
  }
}

// --- Child processes: shown as typed, output streamed ---------------------------------------

/** The one command running now, so that an interrupt can let it finish its own cleanup. */
let running: Promise<unknown> | undefined;

/** Runs a command; `quiet` keeps its output: stdout is returned, stderr goes into the error. */
function spawned(display: string, command: string, args: string[], env: NodeJS.ProcessEnv, quiet: boolean) {
  // After an interrupt nothing new starts: the cleanup is under way.
  if (interrupted) return Promise.reject(new Error(`interrupted by ${interrupted}`));
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", quiet ? "pipe" : "inherit", quiet ? "pipe" : "inherit"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`${command} could not run: ${err.message}`)));
    child.once("close", (code, signal) =>
      code === 0
        ? resolve(out.stdout)
        : reject(
            new Error(
              `\`${display}\` failed (${signal ?? `exit code ${code}`})` +
                (quiet ? `: ${out.stderr.trim()}` : "; its messages are above"),
            ),
          ),
    );
  });
  running = done.catch(() => undefined);
  return done;
}

async function run(display: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  say(`$ ${display}`);
  await spawned(display, command, args, env, false);
}

const output = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawned([command, ...args].join(" "), command, args, env, true);

/** The CLI from the sources, as `npm run arca` runs it: `node ...CLI args`, shown as `arca …`. */
const CLI = ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/main.ts")];
function arca(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return run(`arca ${args.join(" ")}`, process.execPath, [...CLI, ...args], env);
}

function restic(args: string[]): Promise<void> {
  const env = { RESTIC_PASSWORD_FILE: shown(PASSWORD_FILE) };
  const display = `RESTIC_PASSWORD_FILE=${env.RESTIC_PASSWORD_FILE} restic -r ${shown(REPO_DIR)} ${args.join(" ")}`;
  return run(display, "restic", ["-r", shown(REPO_DIR), ...args], env);
}

// --- The cluster: started once, stopped once ------------------------------------------------

let starting: Promise<Cluster> | undefined;
let stopping: Promise<void> | undefined;
/** Set while the servers run, for the last-resort exit hook below. */
let live: Cluster | undefined;

/** The cluster, its node with it (the controller runs there as a Pod). */
async function cleanUp(): Promise<void> {
  await stopCluster();
}

function stopCluster(): Promise<void> {
  stopping ??= (async () => {
    const cluster = await starting?.catch(() => undefined);
    if (!cluster) return;
    say();
    say("==> Stopping the cluster");
    await cluster.stop();
    live = undefined;
    say(
      `stopped the node, kube-scheduler, kube-controller-manager, kube-apiserver and etcd (pids ${[...(cluster.node?.pids ?? []), ...cluster.pids].join(", ")})`,
    );
  })();
  return stopping;
}

// The servers run detached (their own process group), so a Ctrl-C reaches this process and the
// CLI only, and the cluster is stopped here, through its handle, after the CLI has let go.
function onSignal(signal: NodeJS.Signals): void {
  // npm and tsx relay the terminal's signal too: the first one is enough.
  if (interrupted) return;
  interrupted = signal;
  process.stderr.write(`\n${signal}: stopping the demo\n`);
  void (async () => {
    await Promise.race([running, sleep(10_000)]);
    await cleanUp();
    process.exit(130);
  })();
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// Last resort if this process ends any other way: the servers must not outlive it.
process.on("exit", () => {
  for (const pid of [...(live?.node?.pids ?? []), ...(live?.pids ?? [])]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

// --- The demo -------------------------------------------------------------------------------

async function checkTools(): Promise<void> {
  const setup = spawnSync("bash", [join(ROOT, "scripts/setup.sh")], { stdio: "inherit" });
  if (setup.status !== 0) throw new Error("scripts/setup.sh failed; its messages are above");
  say("restic, openssl and Go are installed");
}

async function clusterUp(): Promise<Cluster> {
  const version = k8sVersion();
  // Where test/env/gobuild.ts caches the build of this version.
  if (!existsSync(join(cacheRoot(), "bin", `kubernetes-v${version}`, "kube-apiserver"))) {
    say(
      `First run on this machine: building kube-apiserver, kube-controller-manager, kube-scheduler,\n` +
        `the kubelet, kubectl and etcd ${version} from their Go modules. This takes minutes (30-40 on\n` +
        `2 cores; each step says every minute that it is still at work); later runs reuse\n` +
        `${cacheRoot()} and start in seconds.`,
    );
  }
  starting = startCluster({ name: "arca-demo", detached: true, node: true });
  const cluster = await starting;
  live = cluster;
  shopImage = cluster.node?.workloadImage ?? "";
  say(
    `Kubernetes ${cluster.version} at ${cluster.server} (etcd, kube-apiserver, kube-controller-manager,\n` +
      `kube-scheduler) with node ${cluster.node?.nodeName} (kubelet, containerd, runc); Arca's image there: ${cluster.node?.arcaImage}`,
  );
  return cluster;
}

async function prepareLocation(): Promise<void> {
  // A file:// location must exist as a directory; an empty one gets a repository.
  mkdirSync(REPO_DIR, { recursive: true, mode: 0o700 });
  if (existsSync(PASSWORD_FILE)) {
    say(`reusing the repository password in ${shown(PASSWORD_FILE)}`);
  } else {
    if (existsSync(join(REPO_DIR, "config")))
      throw new Error(
        `${shown(REPO_DIR)} holds a repository but its password file is gone; remove ${shown(DEMO_DIR)} to start over`,
      );
    writeFileSync(PASSWORD_FILE, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    say(`wrote a new repository password to ${shown(PASSWORD_FILE)}`);
  }
  say(
    existsSync(join(REPO_DIR, "config"))
      ? `backups of earlier runs are in ${shown(REPO_DIR)}; this one is added as ${BACKUP}`
      : `${shown(REPO_DIR)} is empty: \`arca backup create\` initialises a repository there`,
  );
}

async function deployShop(kc: KubeConfig): Promise<void> {
  mkdirSync(SHOP_DATA, { recursive: true });
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const create = async (object: KubernetesObject): Promise<true> => {
    await objects.create(object);
    say(`created ${objectName(object)}`);
    return true;
  };

  for (const object of clusterObjects(SHOP_DATA)) await create(object);
  const crd = WIDGET_CRD.metadata?.name ?? "";
  await eventually(`CustomResourceDefinition ${crd} to be Established`, async () => {
    const got = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: crd });
    return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
  });
  for (const object of namespacedObjects(shopImage)) {
    // The API server may take a moment to serve a new CRD's resources after it is Established.
    if (object.kind === WIDGET_CRD.spec.names.kind)
      await eventually(`creating ${objectName(object)}`, () => create(object));
    else await create(object);
  }

  const volume = await eventually(`PersistentVolumeClaim ${CLAIM} to be Bound`, async () => {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: NAMESPACE });
    return pvc.status?.phase === "Bound" && pvc.spec?.volumeName;
  });
  say(`PersistentVolumeClaim ${CLAIM} is Bound to PersistentVolume ${volume} (by the controller manager)`);
  const pod = await eventually(
    `a Running Pod of Deployment ${APP}`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${APP}` });
      return pods.items.find((p) => p.status?.phase === "Running");
    },
    120_000,
  );
  say(`Pod ${pod.metadata?.name} is Running on node ${pod.spec?.nodeName}, with the claim mounted`);
}

async function backUp(kubeconfig: string): Promise<void> {
  say(
    "(`arca` is the CLI from the sources, as `npm run arca --` runs it; KUBECONFIG names the demo cluster)",
  );
  const args = ["backup", "create", BACKUP, "--local", ...LOCATION_FLAGS, "--include-namespaces", NAMESPACE];
  await arca(args, { KUBECONFIG: kubeconfig });
}

async function describe(): Promise<void> {
  await arca(["backup", "describe", BACKUP, "--details", ...LOCATION_FLAGS]);
}

async function readWithRestic(): Promise<void> {
  await restic(["snapshots"]);
  say();
  await restic(["ls", "latest"]);
  say();
  // Byte for byte what the API server served, as Arca stored it.
  await restic(["dump", "latest", `/resources/configmaps/namespaces/${NAMESPACE}/${CONFIG_MAP}.json`]);
  say();
}

/**
 * The disaster: the namespace is deleted, and with it everything in it. Its volume (reclaim
 * policy Retain: the data stays on disk) and the Widget CRD are deleted too, as a cluster
 * rebuilt from scratch would have lost them.
 */
async function disaster(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const gone = (read: () => Promise<unknown>) =>
    read().then(
      () => false,
      (err: unknown) => (err as { code?: number }).code === 404,
    );
  say(
    `$ kubectl delete namespace ${NAMESPACE}; kubectl delete pv ${VOLUME}; kubectl delete crd ${WIDGET_CRD.metadata?.name}`,
  );
  await core.deleteNamespace({ name: NAMESPACE });
  await eventually(
    `namespace ${NAMESPACE} to be gone`,
    () => gone(() => core.readNamespace({ name: NAMESPACE })),
    120_000,
  );
  await core.deletePersistentVolume({ name: VOLUME });
  const crd = WIDGET_CRD.metadata?.name ?? "";
  await kc.makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: crd });
  await eventually(`CRD ${crd} to be gone`, () =>
    gone(() => kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: crd })),
  );
  say(`namespace ${NAMESPACE}, PersistentVolume ${VOLUME} and CRD ${crd} are gone`);
}

const RESTORE = `${BACKUP}-restore`;

async function restore(kubeconfig: string): Promise<void> {
  await arca(["restore", "create", RESTORE, "--from-backup", BACKUP, "--local", ...LOCATION_FLAGS], {
    KUBECONFIG: kubeconfig,
  });
  say();
  await arca(["restore", "describe", RESTORE, ...LOCATION_FLAGS]);
}

/** The application is back: its objects exist again, and the claim is bound to its volume. */
async function showBack(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const object of [...clusterObjects(SHOP_DATA), ...namespacedObjects(shopImage)]) {
    const live = await eventually(`${objectName(object)} to be back`, () =>
      objects.read({
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata?.name ?? "", namespace: object.metadata?.namespace },
      }),
    );
    say(
      `back: ${objectName(object)} (${live.metadata?.labels?.["arca.dev/restore"] ? `restored by ${live.metadata.labels["arca.dev/restore"]}` : "never lost"})`,
    );
  }
  const volume = await eventually(`PersistentVolumeClaim ${CLAIM} to be Bound again`, async () => {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: NAMESPACE });
    return pvc.status?.phase === "Bound" && pvc.spec?.volumeName;
  });
  say(`PersistentVolumeClaim ${CLAIM} is Bound to ${volume} again: the same volume, so the same data`);
}

/** Returns the scheduled backup's name. */
async function main(): Promise<string> {
  await step("Checking the tools (scripts/setup.sh)", checkTools);
  const cluster = await step("Starting a local cluster", clusterUp);
  await step(`Preparing the backup location ${shown(REPO_DIR)}`, prepareLocation);
  await step(`Deploying the sample application into namespace ${NAMESPACE}`, () =>
    deployShop(cluster.kubeConfig()),
  );
  await step(`Backing up namespace ${NAMESPACE} as ${BACKUP}`, () => backUp(cluster.kubeconfigPath));
  await step(`Describing backup ${BACKUP}`, describe);
  await step("Reading the snapshot with restic, independently of Arca", readWithRestic);
  await step(`Disaster: deleting namespace ${NAMESPACE} and what it used`, () =>
    disaster(cluster.kubeConfig()),
  );
  await step(`Restoring ${NAMESPACE} from ${BACKUP}`, () => restore(cluster.kubeconfigPath));
  await step("The application is back", () => showBack(cluster.kubeConfig()));

  // Act 2 (demo-controller.ts): the in-cluster component, with the same location.
  const paths = { demoDir: DEMO_DIR, repoDir: REPO_DIR, passwordFile: PASSWORD_FILE };
  const image = cluster.node?.arcaImage ?? "";
  const kubeletRootDir = cluster.node?.kubeletRootDir ?? "";
  const kit = {
    say,
    shown,
    run,
    output,
    cli: CLI,
    kubeconfig: cluster.kubeconfigPath,
    image,
    kubeletRootDir,
    ...paths,
  };
  const ns = act2.ARCA_NAMESPACE;
  await step(`Installing Arca into namespace ${ns}`, () => act2.install(kit));
  await step(`The controller, running as a Pod on the node`, () => act2.controllerRunning(kit));
  await step("Waiting for BackupLocation default to be Available", () => act2.locationAvailable(kit));
  await step(`Backup ${BACKUP} of the first act, found by the controller`, () => act2.synced(kit, BACKUP));
  const scheduled = await step(`Scheduling backups of ${NAMESPACE}: ${act2.SCHEDULE}`, () =>
    act2.createSchedule(kit, NAMESPACE),
  );
  await step(`Waiting for the scheduled backup ${scheduled}`, () => act2.scheduledBackupDone(kit, scheduled));
  await step(`Disaster again: deleting namespace ${NAMESPACE} and what it used`, () =>
    disaster(cluster.kubeConfig()),
  );
  await step(`Restoring ${NAMESPACE} from ${scheduled}, by the controller`, () =>
    act2.restoreFrom(kit, scheduled),
  );
  await step("The application is back, again", () => showBack(cluster.kubeConfig()));
  await step(`Pausing ${act2.SCHEDULE}; the controller's metrics`, () => act2.pauseAndMetrics(kit));
  return scheduled;
}

try {
  const scheduled = await main();
  await cleanUp();
  say();
  say(`Done. Backups ${BACKUP} and ${scheduled} are in ${shown(REPO_DIR)}`);
  say(`(password in ${shown(PASSWORD_FILE)}); list them all with`);
  say(`  npm run arca -- backup get ${LOCATION_FLAGS.join(" ")}`);
} catch (err) {
  if (!interrupted) {
    const where = err instanceof StepFailed ? ` at step "${err.step}"` : "";
    process.stderr.write(`\ndemo failed${where}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  await cleanUp();
  process.exitCode = interrupted ? 130 : 1;
}
