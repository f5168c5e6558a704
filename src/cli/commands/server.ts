// `arca server`: runs the controller, in the cluster or outside it with a kubeconfig (as
// Velero's run-locally mode does).
import { Option, type Command } from "commander";
import { createLogger } from "../../common/log.js";
import { parseDuration } from "../../backup/spec.js";
import { KubeClient } from "../../kube/client.js";
import { loadKubeConfig } from "../../kube/config.js";
import { globalFlags } from "../cluster-flags.js";
import { abortOnSignals } from "../interrupt.js";
import { versionInfo } from "../versions.js";

interface ServerFlags {
  metricsBindAddress: string;
  concurrentBackups: string;
  concurrentRestores: string;
  defaultTtl: string;
  gcInterval: string;
  syncInterval: string;
  validationInterval: string;
  leaseDuration: string;
}

const count = (flag: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag} must be a whole number ≥ 1, not ${JSON.stringify(v)}`);
  return n;
};

export function registerServer(program: Command): void {
  program
    .command("server")
    .description(
      "run the controller that carries out Backup, Restore, Schedule and DeleteBackupRequest objects",
    )
    .addOption(
      new Option(
        "--metrics-bind-address <host:port>",
        "where /metrics, /healthz and /readyz are served",
      ).default("127.0.0.1:8085"),
    )
    .addOption(new Option("--concurrent-backups <n>", "backups run at once").default("2"))
    .addOption(new Option("--concurrent-restores <n>", "restores run at once").default("2"))
    .addOption(new Option("--default-ttl <duration>", "TTL of backups that set none").default("720h"))
    .addOption(
      new Option("--gc-interval <duration>", "how often expired backups are looked for").default("1m"),
    )
    .addOption(
      new Option("--sync-interval <duration>", "how often each location's backups are listed").default("30s"),
    )
    .addOption(
      new Option(
        "--validation-interval <duration>",
        "how often a location is checked unless it says",
      ).default("1m"),
    )
    .addOption(
      new Option("--lease-duration <duration>", "how long a silent leader keeps the lease").default("15s"),
    )
    .action(async (flags: ServerFlags, command: Command) => {
      const global = globalFlags(command);
      const logLevel = process.env.ARCA_LOG_LEVEL ?? "info";
      const logger = createLogger({ level: logLevel });
      const config = {
        namespace: global.namespace,
        concurrentBackups: count("--concurrent-backups", flags.concurrentBackups),
        concurrentRestores: count("--concurrent-restores", flags.concurrentRestores),
        defaultTtl: (parseDuration(flags.defaultTtl), flags.defaultTtl),
        gcEveryMs: parseDuration(flags.gcInterval),
        syncEveryMs: parseDuration(flags.syncInterval),
        validationEveryMs: parseDuration(flags.validationInterval),
        logLevel,
      };
      // The controller (prom-client, cron-parser, typebox) is loaded only to run it.
      const { runServer } = await import("../../controller/server.js");
      const client = new KubeClient(await loadKubeConfig(global), {
        onRetry: (what, err, delay) =>
          logger.warn({ delayMs: delay }, `${what}: retrying after ${String(err)}`),
      });
      const { signal, dispose } = abortOnSignals();
      try {
        await runServer(
          {
            client,
            config,
            metricsAddress: flags.metricsBindAddress,
            logger,
            programVersion: `arca ${versionInfo().arca}`,
            leaseDurationMs: parseDuration(flags.leaseDuration),
          },
          signal,
        );
        logger.info("arca server stopped");
      } finally {
        dispose();
        client.close();
      }
    });
}
