// Every served group, version and resource (built-in, CRDs and aggregated APIs), from the
// legacy discovery documents that every API server answers. A group version that fails (an
// aggregated API whose backend is down, say) is reported, not fatal.
import { messageOf } from "../common/errors.js";
import type { KubeClient } from "./client.js";
import type { ApiResource } from "./resources.js";

interface ApiGroupList {
  groups: Array<{
    name: string;
    versions: Array<{ groupVersion: string; version: string }>;
    preferredVersion?: { version: string };
  }>;
}

interface ApiResourceList {
  resources: Array<{
    name: string;
    kind: string;
    namespaced: boolean;
    verbs?: string[];
    shortNames?: string[];
  }>;
}

export interface Discovery {
  resources: ApiResource[];
  failures: Array<{ groupVersion: string; message: string }>;
}

export async function discoverResources(client: KubeClient): Promise<Discovery> {
  const groups = (await client.getJson<ApiGroupList>("listing API groups", "/apis"))?.groups ?? [];
  const wanted: Array<{ group: string; version: string; preferred: boolean; path: string }> = [
    { group: "", version: "v1", preferred: true, path: "/api/v1" },
  ];
  for (const g of groups) {
    const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
    for (const v of g.versions) {
      wanted.push({
        group: g.name,
        version: v.version,
        preferred: v.version === preferred,
        path: `/apis/${v.groupVersion}`,
      });
    }
  }
  const out: Discovery = { resources: [], failures: [] };
  await Promise.all(
    wanted.map(async (gv) => {
      const name = gv.group ? `${gv.group}/${gv.version}` : gv.version;
      try {
        const list = await client.getJson<ApiResourceList>(`discovering ${name}`, gv.path);
        if (!list) throw new Error("not found (the group version went away)");
        for (const r of list.resources) {
          if (r.name.includes("/")) continue; // subresources: status, scale, log, ...
          out.resources.push({
            group: gv.group,
            version: gv.version,
            resource: r.name,
            kind: r.kind,
            namespaced: r.namespaced,
            verbs: r.verbs ?? [],
            shortNames: r.shortNames ?? [],
            preferred: gv.preferred,
          });
        }
      } catch (err) {
        out.failures.push({ groupVersion: name, message: messageOf(err) });
      }
    }),
  );
  // Stable order: core first, then by group, version and resource.
  out.resources.sort(
    (a, b) =>
      (a.group === "" ? 0 : 1) - (b.group === "" ? 0 : 1) ||
      a.group.localeCompare(b.group) ||
      a.version.localeCompare(b.version) ||
      a.resource.localeCompare(b.resource),
  );
  return out;
}
