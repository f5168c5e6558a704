// A finished backup's or restore's log and results, kept next to its object in a ConfigMap so
// that someone with kubectl access alone (no storage credentials) can read them. The
// repository keeps the full copy; this one is gzipped and cut to fit a ConfigMap.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { KubeClient } from "../kube/client.js";
import { getObject } from "../kube/list.js";
import { builtinResource } from "../kube/resources.js";
import { applyObject } from "../kube/write.js";
import { LABELS } from "./names.js";

const CONFIGMAPS = builtinResource("v1", "configmaps", "ConfigMap");

/** ConfigMaps hold 1 MiB; the rest of a longer log stays in the repository. */
const MAX_GZIPPED = 900 * 1024;

export type LoggedKind = "backup" | "restore";

export interface WorkLogs {
  log: Buffer;
  results: Buffer;
}

export function logsConfigMapName(kind: LoggedKind, name: string): string {
  const full = `${name}-${kind}-logs`;
  if (full.length <= 253) return full;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 10);
  return `${name.slice(0, 253 - hash.length - kind.length - 7)}-${hash}-${kind}-logs`.replace(/[-.]+-/, "-");
}

export async function saveLogs(
  client: KubeClient,
  namespace: string,
  kind: LoggedKind,
  owner: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } },
  logs: WorkLogs,
): Promise<void> {
  let log = gzipSync(logs.log);
  // Keep the end: that is where a failure is explained.
  for (let keep = logs.log.length; log.length > MAX_GZIPPED && keep > 1024; keep = Math.floor(keep / 2))
    log = gzipSync(
      Buffer.concat([Buffer.from("(earlier lines are in the repository)\n"), logs.log.subarray(-keep)]),
    );
  const result = await applyObject(client, CONFIGMAPS, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: logsConfigMapName(kind, owner.metadata.name),
      namespace,
      labels: { [`${LABELS.component}`]: "arca", [`arca.dev/${kind}`]: owner.metadata.name },
      // Goes away with its object; the repository's copy does not.
      ...(owner.metadata.uid
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name: owner.metadata.name,
                uid: owner.metadata.uid,
              },
            ],
          }
        : {}),
    },
    binaryData: {
      "log.jsonl.gz": log.toString("base64"),
      "results.json.gz": gzipSync(logs.results).toString("base64"),
    },
  });
  if (!result.ok) throw result.error;
}

/** undefined when the work has not finished (or its logs were never kept here). */
export async function loadLogs(
  client: KubeClient,
  namespace: string,
  kind: LoggedKind,
  name: string,
): Promise<WorkLogs | undefined> {
  const cm = await getObject(client, CONFIGMAPS, logsConfigMapName(kind, name), namespace);
  const data = cm?.binaryData as Record<string, string> | undefined;
  if (!data?.["log.jsonl.gz"] || !data["results.json.gz"]) return undefined;
  return {
    log: gunzipSync(Buffer.from(data["log.jsonl.gz"], "base64")),
    results: gunzipSync(Buffer.from(data["results.json.gz"], "base64")),
  };
}
