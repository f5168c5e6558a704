// Watches: the server's stream of changes after a resourceVersion, one JSON event per line.
// A watch ends when the server closes it (it does every few minutes) or the signal aborts; an
// expired resourceVersion (410 Gone) is reported so the caller can list again.
import { ArcaError } from "../common/errors.js";
import { parseJson, type KubeClient } from "./client.js";
import { asKubeObject, type KubeObject } from "./object.js";
import { resourcePath, type ApiResource } from "./resources.js";

export type WatchEvent =
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: KubeObject }
  | { type: "BOOKMARK"; resourceVersion: string }
  /** The resourceVersion is too old: list again. */
  | { type: "EXPIRED" };

export class WatchError extends ArcaError {}

export async function* watchObjects(
  client: KubeClient,
  r: ApiResource,
  options: { namespace?: string; resourceVersion: string; timeoutSeconds?: number; signal?: AbortSignal },
): AsyncGenerator<WatchEvent> {
  const what = `watching ${r.resource}.${r.group}${options.namespace ? ` in namespace ${options.namespace}` : ""}`;
  const query = new URLSearchParams({
    watch: "1",
    allowWatchBookmarks: "true",
    resourceVersion: options.resourceVersion,
    timeoutSeconds: String(options.timeoutSeconds ?? 300),
  });
  const res = await client.stream(what, `${resourcePath(r, options.namespace)}?${query}`, options.signal);
  let pending = "";
  try {
    for await (const chunk of res) {
      pending += (chunk as Buffer).toString("utf8");
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) yield event(what, line);
      }
    }
  } catch (err) {
    // The connection dropped or the signal aborted: the caller watches again from where it was.
    if (options.signal?.aborted) return;
    throw new WatchError(`${what}: the stream broke`, { cause: err });
  } finally {
    res.destroy();
  }
}

function event(what: string, line: string): WatchEvent {
  const e = parseJson<{ type?: string; object?: Record<string, unknown> }>(what, Buffer.from(line));
  const object = e.object ?? {};
  if (e.type === "ERROR") {
    if (object.code === 410) return { type: "EXPIRED" };
    throw new WatchError(`${what}: ${String(object.message ?? "the server sent an error event")}`);
  }
  if (e.type === "BOOKMARK") {
    const meta = object.metadata as { resourceVersion?: string } | undefined;
    return { type: "BOOKMARK", resourceVersion: meta?.resourceVersion ?? "" };
  }
  if (e.type === "ADDED" || e.type === "MODIFIED" || e.type === "DELETED")
    return { type: e.type, object: asKubeObject(object, `${what}: a ${e.type} event`) };
  throw new WatchError(`${what}: unknown event type ${String(e.type)}`);
}
