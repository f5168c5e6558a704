// `npm run demo`, second act: the in-cluster component. `arca install` puts the controller, its
// CRDs, RBAC and the default BackupLocation (the same ./arca-demo/repo, mounted into its Pod)
// into the cluster, with Arca's image as built here and imported into the node. The controller
// runs as a Pod on the node; no controller process runs on the host. A schedule backs the shop
// up, and after the disaster a Restore object brings it back, both carried out by the Pod.
import { chownSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kubernetesBinaries } from "../test/env/binaries.js";
import { IMAGE_UID } from "../src/install/pod.js";
import { METRICS_PORT } from "../src/install/names.js";

export const ARCA_NAMESPACE = "arca-demo-system";
export const SCHEDULE = "shop-every-minute";

/** What the act needs of demo.ts: its paths, the cluster, and its one way of running commands. */
export interface DemoKit {
  say(line?: string): void;
  /** A path as the operator would type it, relative to where the demo runs. */
  shown(path: string): string;
  demoDir: string;
  repoDir: string;
  passwordFile: string;
  /** The cluster's admin kubeconfig: what KUBECONFIG names for every `arca` and `kubectl`. */
  kubeconfig: string;
  /** Arca's image, imported into the cluster's node. */
  image: string;
  /** The node's kubelet --root-dir, where the node agent finds the Pods' volumes. */
  kubeletRootDir: string;
  /** Node's arguments that run the CLI from the sources: `arca ARGS` is `node ...cli ARGS`. */
  cli: string[];
  /** Shows `$ display`, runs it, streams its output; fails unless it exits 0. */
  run(display: string, command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void>;
  /** Runs a command without showing it and returns its standard output; fails unless it exits 0. */
  output(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string>;
}

const admin = (kit: DemoKit) => ({ KUBECONFIG: kit.kubeconfig });
/** An argument as typed into a shell. */
const word = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg}"`);
/** `arca -n arca-demo-system ARGS`, shown and run with the admin kubeconfig. */
const arca = (kit: DemoKit, args: string[]) =>
  kit.run(
    `arca -n ${ARCA_NAMESPACE} ${args.map(word).join(" ")}`,
    process.execPath,
    [...kit.cli, "-n", ARCA_NAMESPACE, ...args],
    admin(kit),
  );
/** The same, quietly, for its JSON output (polling). */
const arcaJson = async <T>(kit: DemoKit, args: string[]): Promise<T> =>
  JSON.parse(
    await kit.output(process.execPath, [...kit.cli, "-n", ARCA_NAMESPACE, ...args, "-o", "json"], admin(kit)),
  ) as T;

interface Status {
  metadata: { name: string };
  status?: { phase?: string; message?: string; lastBackupName?: string };
}

/**
 * Polls `arca ... ARGS -o json` (shown once, as the loop an operator would write) until `done`
 * says yes; prints each new phase on the way.
 */
async function until<T>(
  kit: DemoKit,
  args: string[],
  wanted: string,
  done: (got: T) => boolean,
  describe: (got: T) => string | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  kit.say(`$ until arca -n ${ARCA_NAMESPACE} ${args.join(" ")} -o json | ${wanted}; do sleep 2; done`);
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  let error = "";
  for (;;) {
    try {
      const got = await arcaJson<T>(kit, args);
      const line = describe(got);
      if (line && line !== last) kit.say(`  ${line}`);
      last = line;
      if (done(got)) return got;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`gave up after ${timeoutMs / 1000}s waiting: ${last ?? (error || "no answer")}`);
    await sleep(2000);
  }
}

const phaseOf = (o: Status) => o.status?.phase ?? "New";

// --- 1. Install ---------------------------------------------------------------------------

/** Gives the folder and what is in it to the controller's user, as an operator would with chown -R. */
function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid);
    else chownSync(child, uid, uid);
  }
}

export async function install(kit: DemoKit): Promise<void> {
  // The Pod mounts the file:// location's folder; it runs as uid 10001, not root.
  kit.say(`$ chown -R ${IMAGE_UID}:${IMAGE_UID} ${kit.shown(kit.repoDir)}`);
  chownTree(kit.repoDir, IMAGE_UID);
  await arca(kit, [
    "install",
    "--provider",
    "file",
    "--bucket",
    kit.repoDir,
    "--password-file",
    kit.shown(kit.passwordFile),
    "--image",
    kit.image,
    "--kubelet-root-dir",
    kit.kubeletRootDir,
  ]);
}

// --- 2. The controller, as a Pod on the node -----------------------------------------------

const kubectl = async (kit: DemoKit, args: string[], show = true): Promise<string> => {
  const { kubectl: bin } = await kubernetesBinaries();
  if (show) {
    await kit.run(`kubectl ${args.map(word).join(" ")}`, bin, args, admin(kit));
    return "";
  }
  return kit.output(bin, args, admin(kit));
};

let controllerPod: string | undefined;

export async function controllerRunning(kit: DemoKit): Promise<void> {
  await kubectl(kit, ["-n", ARCA_NAMESPACE, "rollout", "status", "deployment/arca", "--timeout=180s"]);
  await kubectl(kit, ["-n", ARCA_NAMESPACE, "rollout", "status", "daemonset/node-agent", "--timeout=180s"]);
  await kubectl(kit, ["-n", ARCA_NAMESPACE, "get", "pods", "-o", "wide"]);
  controllerPod = (
    await kubectl(
      kit,
      [
        "-n",
        ARCA_NAMESPACE,
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=arca",
        "-o",
        "jsonpath={.items[0].metadata.name}",
      ],
      false,
    )
  ).trim();
  if (!controllerPod) throw new Error(`no controller Pod in namespace ${ARCA_NAMESPACE}`);
  kit.say(`the controller runs in Pod ${controllerPod}, on the node; nothing of Arca runs on the host`);
}

// --- 3. The location, and the first act's backup through sync ------------------------------

export async function locationAvailable(kit: DemoKit): Promise<void> {
  await until<Status>(
    kit,
    ["location", "get", "default"],
    `grep -q '"phase": "Available"'`,
    (l) => phaseOf(l) === "Available",
    (l) => `BackupLocation default: ${phaseOf(l)}${l.status?.message ? ` (${l.status.message})` : ""}`,
  );
  await arca(kit, ["location", "get"]);
}

export async function synced(kit: DemoKit, backup: string): Promise<void> {
  kit.say(
    `The controller lists the location every 5s and makes a Backup object for each backup it finds there.`,
  );
  await until<Status>(
    kit,
    ["backup", "get", backup],
    `grep -q '"phase": "Completed"'`,
    (b) => phaseOf(b) === "Completed",
    (b) => `Backup ${b.metadata.name}: ${phaseOf(b)}`,
    60_000,
  );
  await arca(kit, ["backup", "get"]);
}

// --- 4. A schedule, and its first backup ---------------------------------------------------

/** Creates the schedule; returns the name of the backup it starts at once. */
export async function createSchedule(kit: DemoKit, namespace: string): Promise<string> {
  await arca(kit, [
    "schedule",
    "create",
    SCHEDULE,
    "--schedule",
    "@every 1m",
    "--include-namespaces",
    namespace,
    "--keep-last",
    "3",
  ]);
  kit.say("A new schedule backs up at once, then every minute; it keeps the newest 3 of its backups.");
  const schedule = await until<Status>(
    kit,
    ["schedule", "get", SCHEDULE],
    `grep -q lastBackupName`,
    (s) => s.status?.lastBackupName !== undefined,
    (s) =>
      `Schedule ${SCHEDULE}: ${phaseOf(s)}${s.status?.lastBackupName ? `, last backup ${s.status.lastBackupName}` : ""}`,
    60_000,
  );
  return schedule.status?.lastBackupName as string;
}

export async function scheduledBackupDone(kit: DemoKit, backup: string): Promise<void> {
  const done = await until<Status>(
    kit,
    ["backup", "get", backup],
    `grep -qE '"phase": "(Completed|PartiallyFailed|Failed)'`,
    (b) => ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(phaseOf(b)),
    (b) => `Backup ${backup}: ${phaseOf(b)}`,
  );
  if (phaseOf(done) !== "Completed") throw new Error(`backup ${backup} ended ${phaseOf(done)}`);
  await arca(kit, ["backup", "get", "-l", `arca.dev/schedule=${SCHEDULE}`]);
  kit.say();
  await arca(kit, ["schedule", "get"]);
}

// --- 5. The restore, by the controller -----------------------------------------------------

export async function restoreFrom(kit: DemoKit, backup: string): Promise<void> {
  await arca(kit, ["restore", "create", "--from-backup", backup, "--wait"]);
}

// --- 6. Pause, metrics, stop ---------------------------------------------------------------

export async function pauseAndMetrics(kit: DemoKit): Promise<void> {
  await arca(kit, ["schedule", "pause", SCHEDULE]);
  kit.say();
  // Through the API server's proxy to the Pod's metrics port.
  const path = `/api/v1/namespaces/${ARCA_NAMESPACE}/pods/${controllerPod}:${METRICS_PORT}/proxy/metrics`;
  kit.say(
    `$ kubectl get --raw ${path} | grep -E '^(arca_backups_total|arca_restores_total|arca_schedule_last_success)'`,
  );
  const text = await kubectl(kit, ["get", "--raw", path], false);
  const wanted = /^(arca_backups_total|arca_restores_total|arca_schedule_last_success)/;
  const lines = text.split("\n").filter((l) => wanted.test(l));
  if (lines.length === 0) throw new Error(`${path} has no arca_backups_total or arca_schedule_last_success`);
  for (const line of lines) kit.say(line);
}
