// Kubernetes Events on an object, so that `kubectl describe` tells an operator what happened.
import type { KubeClient } from "./client.js";

/** What an event is about: any object with its coordinates. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = "Normal" | "Warning";

export async function recordEvent(
  client: KubeClient,
  component: string,
  about: EventSubject,
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  const namespace = about.metadata.namespace ?? "default";
  const now = new Date().toISOString();
  const event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { generateName: `${about.metadata.name}.`, namespace },
    involvedObject: {
      apiVersion: about.apiVersion,
      kind: about.kind,
      name: about.metadata.name,
      namespace,
      uid: about.metadata.uid,
      resourceVersion: about.metadata.resourceVersion,
    },
    type,
    reason,
    message: message.slice(0, 1024),
    source: { component },
    reportingComponent: component,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  // An event is a courtesy: failing to record one must not fail the work it describes.
  await client
    .request(`recording event ${reason} on ${about.kind} ${about.metadata.name}`, {
      method: "POST",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      body: JSON.stringify(event),
    })
    .catch(() => {});
}
