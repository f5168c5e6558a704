// The CLI's way to the in-cluster component (no --local): one client for the install namespace,
// a check that Arca is installed there before anything is written, and the lookups that the
// commands share (a named object that must exist, the location a backup goes to).
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { ArcaError } from "../common/errors.js";
import type { RetryPolicy } from "../common/retry.js";
import { ArcaObjects, type ObjectOf } from "../api/objects.js";
import { apiResource, type KindName } from "../api/kinds.js";
import { KubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { resourcePath } from "../kube/resources.js";
import { apiError, KubeUnreachableError } from "../kube/transport.js";
import { redactUrl } from "../storage/location.js";
import { globalFlags } from "./cluster-flags.js";
import { abortOnSignals } from "./interrupt.js";

/** An operator is waiting: a few quick attempts, not the engines' half minute. */
const CLI_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

export const INSTALL_HINT = "run `arca install` or use --local";

export interface ArcaCluster {
  client: KubeClient;
  objects: ArcaObjects;
  namespace: string;
  signal: AbortSignal;
}

/** Connects to the install namespace (-n), checks that Arca is there, runs `work`, closes. */
export async function withArca<T>(command: Command, work: (api: ArcaCluster) => Promise<T>): Promise<T> {
  const flags = globalFlags(command);
  const access = await loadKubeConfig(flags);
  const { signal, dispose } = abortOnSignals();
  const client = new KubeClient(access, { signal, retry: CLI_RETRY });
  const api = {
    client,
    objects: new ArcaObjects(client, flags.namespace),
    namespace: flags.namespace,
    signal,
  };
  try {
    await ensureInstalled(api).catch((err: unknown) => {
      if (!(err instanceof KubeUnreachableError)) throw err;
      throw new ArcaError(
        `cannot reach the cluster to find Arca in namespace ${flags.namespace}: ${err.message}`,
        {
          cause: err,
          hint: `${err.hint ?? "check the kubeconfig"}; or use --local to work on a location URL from here`,
        },
      );
    });
    return await work(api);
  } finally {
    dispose();
    client.close();
  }
}

/**
 * The namespace must exist and the cluster must serve arca.dev (the CRDs are installed).
 * Without this a missing CRD shows up as a bare 404 on the first create.
 */
async function ensureInstalled({ client, namespace }: ArcaCluster): Promise<void> {
  const nsPath = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  const kindPath = `${resourcePath(apiResource("BackupLocation"), namespace)}?limit=1`;
  const [ns, kind] = await Promise.all([
    client.request(`reading namespace ${namespace}`, { path: nsPath }),
    client.request(`listing BackupLocations in namespace ${namespace}`, { path: kindPath }),
  ]);
  if (kind.status === 404)
    throw new ArcaError(
      `Arca is not installed in namespace ${namespace}: the cluster does not serve arca.dev/v1alpha1 (its CustomResourceDefinitions are missing)`,
      { hint: INSTALL_HINT },
    );
  if (kind.status !== 200) throw apiError(`listing BackupLocations in namespace ${namespace}`, kind);
  // Reading namespaces may be forbidden to someone who can use Arca: then only 404 tells.
  if (ns.status === 404)
    throw new ArcaError(`Arca is not installed in namespace ${namespace}: there is no such namespace`, {
      hint: `${INSTALL_HINT}, or pass -n with the namespace Arca was installed in`,
    });
}

const LIST_COMMAND: Record<KindName, string> = {
  Backup: "arca backup get",
  Restore: "arca restore get",
  Schedule: "arca schedule get",
  BackupLocation: "arca location get",
  DeleteBackupRequest: "kubectl get deletebackuprequests",
};

export function notFound(api: ArcaCluster, kind: KindName, name: string): ArcaError {
  return new ArcaError(`there is no ${kind} named ${name} in namespace ${api.namespace}`, {
    hint: `list them with \`${LIST_COMMAND[kind]}\` (-n ${api.namespace})`,
  });
}

/** The object, or an error that names it and says how to list what there is. */
export async function mustGet<K extends KindName>(
  api: ArcaCluster,
  kind: K,
  name: string,
): Promise<ObjectOf<K>> {
  const o = await api.objects.get(kind, name);
  if (!o) throw notFound(api, kind, name);
  return o;
}

/** One object by name, or all of them (optionally matching a label selector), sorted by name. */
export async function getOrList<K extends KindName>(
  api: ArcaCluster,
  kind: K,
  name: string | undefined,
  selector?: string,
): Promise<ObjectOf<K>[]> {
  if (name) return [await mustGet(api, kind, name)];
  const all = await api.objects.list(kind, selector);
  return all.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** An object as kubectl prints it: without the server's field-ownership bookkeeping. */
export function forOutput<T extends { metadata: object }>(o: T): T {
  const { managedFields: _omit, ...metadata } = o.metadata as { managedFields?: unknown };
  return { ...o, metadata };
}

/** What -o json|yaml prints: the object itself, or a List as kubectl prints one. */
export function asOutput<T extends { metadata: object }>(name: string | undefined, items: T[]): unknown {
  const clean = items.map(forOutput);
  return name ? clean[0] : { apiVersion: "v1", kind: "List", items: clean };
}

/**
 * The BackupLocation that new backups go to: the one named, which must exist and be writable,
 * or else a default must exist (the controller resolves it; the spec stays unset).
 */
export async function checkTargetLocation(api: ArcaCluster, name: string | undefined): Promise<void> {
  if (name) {
    const location = await mustGet(api, "BackupLocation", name);
    if (location.spec.accessMode === "ReadOnly")
      throw new ArcaError(`BackupLocation ${name} is ReadOnly: backups cannot be written to it`, {
        hint: "choose another location with --location, or make this one ReadWrite",
      });
    return;
  }
  const all = await api.objects.list("BackupLocation");
  if (all.length === 0)
    throw new ArcaError(
      `there is no BackupLocation in namespace ${api.namespace}: a backup would have nowhere to go`,
      {
        hint: `create one with \`arca location create NAME --url URL --default\`, ${INSTALL_HINT}`,
      },
    );
  if (!all.some((l) => l.spec.default))
    throw new ArcaError(`no BackupLocation in namespace ${api.namespace} is the default`, {
      hint: `pass --location with one of: ${all.map((l) => l.metadata.name).join(", ")}`,
    });
}

/** The URL of the location a backup is stored in, when it can be found; for hints. */
export async function locationUrl(api: ArcaCluster, name: string | undefined): Promise<string | undefined> {
  const all = await api.objects.list("BackupLocation").catch(() => []);
  const location = name ? all.find((l) => l.metadata.name === name) : all.find((l) => l.spec.default);
  return location && redactUrl(location.spec.url);
}

/** `name-xxxxx`, as generateName makes them, within the 253 characters of a name. */
export function suffixedName(name: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const suffix = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
  return `${name.slice(0, 253 - 6)}-${suffix}`;
}

/** kubectl's ages: 45s, 12m, 5h, 3d; "" when unknown. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export const age = (time: string | undefined): string =>
  time ? humanDuration(Date.now() - Date.parse(time)) : "<unknown>";

/** How long until `time`, or "expired"; "never" when unset. */
export function expires(time: string | undefined): string {
  if (!time) return "never";
  const left = Date.parse(time) - Date.now();
  return left <= 0 ? "expired" : humanDuration(left);
}

export const orNone = (values: string[] | undefined): string =>
  values && values.length ? values.join(", ") : "<none>";
