// `npm run demo`, second act: the in-cluster component. `arca install` puts the controller, its
// CRDs, RBAC and the default BackupLocation (the same ./arca-demo/repo) into the cluster; the
// controller then runs here as a local process with the token of the ServiceAccount install
// created (the demo cluster has no kubelet, so its Pod never starts). A schedule backs the shop
// up, and after the disaster a Restore object brings it back, both carried out by the controller.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeConfig } from "@kubernetes/client-node";
import { kubernetesBinaries } from "../test/env/binaries.js";
import { freePort } from "../test/env/ports.js";

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

export async function install(kit: DemoKit): Promise<void> {
  await arca(kit, [
    "install",
    "--provider",
    "file",
    "--bucket",
    kit.repoDir,
    "--password-file",
    kit.shown(kit.passwordFile),
    "--image",
    "arca:demo",
  ]);
  kit.say();
  kit.say(
    `Deployment arca's Pod will stay Pending: this cluster has no kubelet. So the controller runs here\n` +
      `as a local process, with the ServiceAccount install created (and only the RBAC install granted it).`,
  );
}

// --- 2. The controller, as a local process ------------------------------------------------

let controller:
  | { child: ChildProcess; exited: Promise<void>; metricsUrl: string; log: string; kubeconfig: string }
  | undefined;
let stopping: Promise<void> | undefined;

const kubeconfigFile = (kit: DemoKit) => join(kit.demoDir, "controller.kubeconfig");
const logFile = (kit: DemoKit) => join(kit.demoDir, "controller.log");

/** The controller's PID while it runs, for demo.ts's last-resort exit hook. */
export function controllerPid(): number | undefined {
  const child = controller?.child;
  return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
}

export async function startController(kit: DemoKit): Promise<void> {
  const { kubectl } = await kubernetesBinaries();
  const tokenCommand = `kubectl create token arca -n ${ARCA_NAMESPACE} --duration 1h`;
  kit.say(`$ TOKEN=$(${tokenCommand})`);
  const token = (
    await kit.output(
      kubectl,
      ["create", "token", "arca", "-n", ARCA_NAMESPACE, "--duration", "1h"],
      admin(kit),
    )
  ).trim();
  if (!token) throw new Error(`\`${tokenCommand}\` printed no token`);

  // The admin kubeconfig's cluster (server and CA), with the ServiceAccount's token as the user.
  const adminConfig = new KubeConfig();
  adminConfig.loadFromFile(kit.kubeconfig);
  const cluster = adminConfig.getCurrentCluster();
  if (!cluster) throw new Error(`${kit.kubeconfig} names no current cluster`);
  const user = `system:serviceaccount:${ARCA_NAMESPACE}:arca`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace: ARCA_NAMESPACE }],
    currentContext: user,
  });
  const kubeconfig = kubeconfigFile(kit);
  writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 });
  kit.say(`wrote ${kit.shown(kubeconfig)}: the cluster at ${cluster.server}, as user ${user} with $TOKEN`);
  kit.say();

  const port = await freePort();
  const args = [
    "--kubeconfig",
    kit.shown(kubeconfig),
    "-n",
    ARCA_NAMESPACE,
    "server",
    "--metrics-bind-address",
    `127.0.0.1:${port}`,
    "--sync-interval",
    "5s",
    "--validation-interval",
    "5s",
  ];
  const log = kit.shown(logFile(kit));
  kit.say(`$ arca ${args.join(" ")} > ${log} 2>&1 &`);
  // A Ctrl-C may have come while the token was minted: then nothing more starts.
  if (stopping) throw new Error("the demo is stopping");
  const fd = openSync(logFile(kit), "w");
  // Its own process group: a Ctrl-C reaches the demo, which stops the controller itself.
  const child = spawn(process.execPath, [...kit.cli, ...args], {
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  child.once("error", () => undefined);
  controller = { child, exited, metricsUrl: `http://127.0.0.1:${port}`, log, kubeconfig };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (controllerPid() === undefined)
      throw new Error(
        `the controller exited (${child.exitCode ?? child.signalCode}); see ${log}:\n${tail(kit)}`,
      );
    const healthy = await fetch(`${controller.metricsUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) throw new Error(`the controller's /healthz did not answer in 60s; see ${log}`);
    await sleep(250);
  }
  kit.say(`the controller runs as pid ${child.pid}; /healthz answers on 127.0.0.1:${port}; its log: ${log}`);
}

function tail(kit: DemoKit, lines = 15): string {
  try {
    return readFileSync(logFile(kit), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** SIGTERM by its PID, then wait for it to exit (SIGKILL after 20s). Once; safe if never started. */
export function stopController(say: DemoKit["say"]): Promise<void> {
  stopping ??= (async () => {
    const pid = controllerPid();
    if (!controller || pid === undefined) return;
    say(`$ kill -TERM ${pid}`);
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(pid, s);
      } catch {
        // it has just exited
      }
    };
    signal("SIGTERM");
    const stopped = await Promise.race([controller.exited.then(() => true), sleep(20_000, false)]);
    if (!stopped) {
      say(`the controller did not stop in 20s: SIGKILL`);
      signal("SIGKILL");
      await controller.exited;
    }
    const { exitCode, signalCode } = controller.child;
    say(
      `the controller (pid ${pid}) stopped: ${signalCode ?? `exit code ${exitCode}`}; its log: ${controller.log}`,
    );
    // The token in it is of a cluster that is about to be gone.
    rmSync(controller.kubeconfig, { force: true });
  })();
  return stopping;
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
  const url = `${controller?.metricsUrl ?? "http://127.0.0.1"}/metrics`;
  kit.say(
    `$ curl -s ${url} | grep -E '^(arca_backups_total|arca_restores_total|arca_schedule_last_success)'`,
  );
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const wanted = /^(arca_backups_total|arca_restores_total|arca_schedule_last_success)/;
  const lines = (await response.text()).split("\n").filter((l) => wanted.test(l));
  if (lines.length === 0) throw new Error(`${url} has no arca_backups_total or arca_schedule_last_success`);
  for (const line of lines) kit.say(line);
}
