// `arca node-agent`: the process of the node-agent DaemonSet (src/controller/node-agent.ts).
import { Option, type Command } from "commander";
import { ArcaError } from "../../common/errors.js";
import { createLogger } from "../../common/log.js";
import { KubeClient } from "../../kube/client.js";
import { loadKubeConfig } from "../../kube/config.js";
import { globalFlags } from "../cluster-flags.js";
import { abortOnSignals } from "../interrupt.js";

interface NodeAgentFlags {
  nodeName?: string;
  podDir: string;
  metricsBindAddress: string;
}

export function registerNodeAgent(program: Command): void {
  program
    .command("node-agent")
    .description("run the agent of one node, which reads Pod volumes through the kubelet's pod directory")
    .addOption(
      new Option("--node-name <name>", "the node this agent runs on (the DaemonSet sets NODE_NAME)").env(
        "NODE_NAME",
      ),
    )
    .addOption(
      new Option("--pod-dir <dir>", "the kubelet's pod directory, as this process sees it").default(
        "/var/lib/kubelet/pods",
      ),
    )
    .addOption(
      new Option(
        "--metrics-bind-address <host:port>",
        "where /metrics, /healthz and /readyz are served",
      ).default("127.0.0.1:8086"),
    )
    .action(async (flags: NodeAgentFlags, command: Command) => {
      const global = globalFlags(command);
      if (!flags.nodeName)
        throw new ArcaError("the node agent does not know its node", {
          hint: "set NODE_NAME (the DaemonSet passes spec.nodeName through the downward API) or --node-name",
        });
      const logger = createLogger({ level: process.env.ARCA_LOG_LEVEL ?? "info" });
      // prom-client is loaded only to run the agent.
      const { runNodeAgent } = await import("../../controller/node-agent.js");
      const client = new KubeClient(await loadKubeConfig(global));
      const { signal, dispose } = abortOnSignals();
      try {
        await runNodeAgent(
          {
            client,
            namespace: global.namespace,
            nodeName: flags.nodeName,
            podDir: flags.podDir,
            metricsAddress: flags.metricsBindAddress,
            logger,
          },
          signal,
        );
      } finally {
        dispose();
        client.close();
      }
    });
}
