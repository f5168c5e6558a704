// Custom resources can only be created once their CRD is Established: the restore waits for
// that, up to a deadline, and says which never got there.
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClient } from "../kube/client.js";
import { getObject } from "../kube/list.js";
import type { ApiResource } from "../kube/resources.js";

type Conditions = { conditions?: Array<{ type: string; status: string }> };

/** CRD name -> why it is not usable, for each CRD that was not Established within `timeoutMs`. */
export async function waitEstablished(
  client: KubeClient,
  crdResource: ApiResource,
  names: string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const notReady = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    names.map(async (name) => {
      for (;;) {
        const crd = await getObject(client, crdResource, name).catch(() => undefined);
        const conditions = (crd?.status as Conditions | undefined)?.conditions;
        if (conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
        if (Date.now() > deadline) {
          notReady.set(
            name,
            `its CRD ${name} did not become Established within ${Math.round(timeoutMs / 1000)}s`,
          );
          return;
        }
        await sleep(250);
      }
    }),
  );
  return notReady;
}
