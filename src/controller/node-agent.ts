// `arca node-agent`: runs on every node (the DaemonSet that install makes) and will read Pod
// volumes through the kubelet's pod directory. For now it checks that directory, serves the
// probes and /metrics as `arca server` does, says once that it is ready, and waits.
import { accessSync, constants, statSync } from "node:fs";
import { once } from "node:events";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { NODE_AGENT_DAEMONSET } from "../api/names.js";
import { ArcaError, messageOf } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import type { KubeClient } from "../kube/client.js";
import { recordEvent } from "../kube/events.js";
import { serveHttp } from "./http.js";

export interface NodeAgentOptions {
  client: KubeClient;
  namespace: string;
  nodeName: string;
  /** The kubelet's pod directory, as this process sees it. */
  podDir: string;
  metricsAddress: string;
  logger: Logger;
}

/** Whether the pod directory is a directory this process can list and enter. */
export function podDirectoryState(dir: string): { ok: boolean; detail: string } {
  try {
    if (!statSync(dir).isDirectory()) return { ok: false, detail: `${dir} is not a directory` };
    accessSync(dir, constants.R_OK | constants.X_OK);
    return { ok: true, detail: `pod directory ${dir} is readable` };
  } catch (err) {
    return { ok: false, detail: `pod directory ${dir} cannot be read: ${messageOf(err)}` };
  }
}

/** Runs until `signal` aborts. Throws at once if the pod directory cannot be read. */
export async function runNodeAgent(o: NodeAgentOptions, signal: AbortSignal): Promise<void> {
  const first = podDirectoryState(o.podDir);
  if (!first.ok)
    throw new ArcaError(`node agent on ${o.nodeName}: ${first.detail}`, {
      hint:
        "mount the kubelet's pod directory there (arca install --kubelet-root-dir DIR when the " +
        "kubelet's --root-dir is not /var/lib/kubelet), or pass --pod-dir",
    });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "arca_node_agent_process_" });
  new Gauge({
    name: "arca_node_agent_pod_directory_readable",
    help: "1 while the kubelet's pod directory can be read",
    registers: [registry],
    collect() {
      this.set(podDirectoryState(o.podDir).ok ? 1 : 0);
    },
  });
  const http = await serveHttp(o.metricsAddress, { registry }, { ready: () => podDirectoryState(o.podDir) });
  try {
    const message = `node agent on ${o.nodeName} ready; pod directory ${o.podDir}`;
    o.logger.info({ node: o.nodeName, podDir: o.podDir, metrics: o.metricsAddress }, message);
    const daemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: NODE_AGENT_DAEMONSET, namespace: o.namespace },
    };
    await recordEvent(o.client, "arca-node-agent", daemonSet, "Normal", "NodeAgentReady", message);
    if (!signal.aborted) await once(signal, "abort");
    o.logger.info({ node: o.nodeName }, "node agent stopping");
  } finally {
    http.close();
  }
}
