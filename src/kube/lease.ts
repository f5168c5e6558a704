// Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews
// within the lease duration; anyone may take a lease that has not been renewed in time. Writes
// carry the resourceVersion they read, so two candidates cannot both win.
import { setTimeout as sleep } from "node:timers/promises";
import { ArcaError } from "../common/errors.js";
import type { KubeClient } from "./client.js";
import { readObject } from "./list.js";
import { builtinResource, resourcePath } from "./resources.js";
import { apiError } from "./transport.js";

const LEASES = builtinResource("coordination.k8s.io/v1", "leases", "Lease");

export interface ElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewEveryMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

/**
 * Blocks until this identity holds the lease, then keeps renewing it; `lost` aborts when a
 * renewal fails for longer than the lease lasts (someone else may hold it by then).
 */
export async function leadElection(
  client: KubeClient,
  o: ElectionOptions,
  signal: AbortSignal,
): Promise<{ lost: AbortSignal; stopped: Promise<void> }> {
  const duration = o.leaseDurationMs ?? 15_000;
  const every = o.renewEveryMs ?? Math.floor(duration / 3);
  while (!(await tryAcquire(client, o, duration))) await sleep(every, undefined, { signal });
  const lost = new AbortController();
  const stopped = (async () => {
    let renewed = Date.now();
    while (!signal.aborted && !lost.signal.aborted) {
      await sleep(every, undefined, { signal }).catch(() => {});
      if (signal.aborted) break;
      const ok = await tryAcquire(client, o, duration).catch(() => false);
      if (ok) renewed = Date.now();
      else if (Date.now() - renewed >= duration)
        lost.abort(new ArcaError(`lost the lease ${o.namespace}/${o.name}`));
    }
    // Stepping down: let the next candidate take over at once instead of after the duration.
    if (signal.aborted) await release(client, o).catch(() => {});
  })();
  return { lost: lost.signal, stopped };
}

async function tryAcquire(client: KubeClient, o: ElectionOptions, durationMs: number): Promise<boolean> {
  const now = new Date();
  const current = await readObject(client, LEASES, o.name, o.namespace);
  const spec: LeaseSpec = (current?.object.spec as LeaseSpec | undefined) ?? {};
  const mine = spec.holderIdentity === o.identity;
  const renewedAt = spec.renewTime ? Date.parse(spec.renewTime) : 0;
  const expired = !spec.holderIdentity || renewedAt + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
  if (current && !mine && !expired) return false;
  const next: LeaseSpec = {
    holderIdentity: o.identity,
    leaseDurationSeconds: Math.ceil(durationMs / 1000),
    renewTime: microTime(now),
    acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
    leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
  };
  const body = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: o.name,
      namespace: o.namespace,
      resourceVersion: current?.object.metadata.resourceVersion,
    },
    spec: next,
  };
  const what = `${current ? "renewing" : "creating"} the lease ${o.namespace}/${o.name}`;
  const res = await client.request(what, {
    method: current ? "PUT" : "POST",
    path: resourcePath(LEASES, o.namespace, current ? o.name : undefined),
    body: JSON.stringify(body),
  });
  if (res.status === 200 || res.status === 201) return true;
  if (res.status === 409) return false; // someone else wrote it first
  throw apiError(what, res);
}

async function release(client: KubeClient, o: ElectionOptions): Promise<void> {
  const current = await readObject(client, LEASES, o.name, o.namespace);
  const spec = current?.object.spec as LeaseSpec | undefined;
  if (!current || spec?.holderIdentity !== o.identity) return;
  await client.request(`releasing the lease ${o.namespace}/${o.name}`, {
    method: "PUT",
    path: resourcePath(LEASES, o.namespace, o.name),
    body: JSON.stringify({
      ...current.object,
      spec: { ...spec, holderIdentity: "", leaseDurationSeconds: 1 },
    }),
  });
}
