// What the target cluster serves: each group-resource at its versions, preferred first, and
// the kind of each (custom kinds learnt from the backup's CRDs until the cluster serves them).
import type { KubeClient } from "../kube/client.js";
import { discoverResources } from "../kube/discovery.js";
import { groupResource, type ApiResource } from "../kube/resources.js";

export class ServedResources {
  private served = new Map<string, ApiResource[]>();
  private readonly kinds = new Map<string, string>();

  /** Reads discovery again (after CRDs were created); returns what failed, for warnings. */
  async refresh(client: KubeClient): Promise<string[]> {
    const discovery = await discoverResources(client);
    const served = new Map<string, ApiResource[]>();
    for (const r of discovery.resources) {
      const gr = groupResource(r);
      const list = served.get(gr) ?? [];
      if (r.preferred) list.unshift(r);
      else list.push(r);
      served.set(gr, list);
      this.kinds.set(gr, r.kind);
    }
    this.served = served;
    return discovery.failures.map((f) => `discovery of ${f.groupVersion} failed: ${f.message}`);
  }

  has(gr: string): boolean {
    return this.served.has(gr);
  }

  preferred(gr: string): ApiResource | undefined {
    return this.served.get(gr)?.[0];
  }

  kindOf(gr: string): string | undefined {
    return this.kinds.get(gr);
  }

  /** A kind the cluster does not serve yet, from a CRD the restore will create. */
  learnKind(gr: string, kind: string): void {
    if (!this.kinds.has(gr)) this.kinds.set(gr, kind);
  }

  /** Where to write objects of `apiVersion` of this group-resource, or why there is nowhere. */
  target(gr: string, apiVersion: string): ApiResource | string {
    const served = this.served.get(gr);
    if (!served) return `the cluster does not serve ${gr}`;
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion;
    return (
      served.find((r) => r.version === version) ??
      `the cluster does not serve ${gr} at ${version} (it serves ${served.map((r) => r.version).join(", ")})`
    );
  }
}
