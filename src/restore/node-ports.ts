// Which node ports of a stored Service its user chose. The API server allocates a node port
// after it has recorded who set which field, so an allocated port has no field manager, while
// a port the user wrote is owned by the user's manager (kubectl, Helm, an operator) in
// managedFields. kubectl's last-applied-configuration, where there is one, names them too.
// A chosen port is kept, because whatever points at it would break; an allocated one belongs
// to the old cluster and is dropped, so the target allocates one of its own.
import type { KubeObject } from "../kube/object.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** A Service port is keyed by port and protocol (its list-map keys); protocol defaults to TCP. */
const portKey = (p: Obj) => `${String(p.port)}/${typeof p.protocol === "string" ? p.protocol : "TCP"}`;

export interface ChosenNodePorts {
  /** portKey of each ports entry whose nodePort was chosen */
  ports: Set<string>;
  healthCheckNodePort: boolean;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function chosenNodePorts(service: KubeObject): ChosenNodePorts {
  const chosen: ChosenNodePorts = { ports: new Set(), healthCheckNodePort: false };
  const managed = (service.metadata as { managedFields?: unknown }).managedFields;
  for (const entry of Array.isArray(managed) ? managed : []) {
    const fields = isObj(entry) && isObj(entry.fieldsV1) ? entry.fieldsV1 : undefined;
    const spec = fields?.["f:spec"];
    if (!isObj(spec)) continue;
    if ("f:healthCheckNodePort" in spec) chosen.healthCheckNodePort = true;
    const ports = spec["f:ports"];
    // Keys read k:{"port":80,"protocol":"TCP"}: the ports entry, by its list-map keys.
    for (const [k, v] of Object.entries(isObj(ports) ? ports : {})) {
      const key = k.startsWith("k:") ? parseJson(k.slice(2)) : undefined;
      if (isObj(key) && isObj(v) && "f:nodePort" in v) chosen.ports.add(portKey(key));
    }
  }
  const applied = service.metadata.annotations?.[LAST_APPLIED];
  const last = applied ? parseJson(applied) : undefined;
  const spec = isObj(last) && isObj(last.spec) ? last.spec : {};
  if (spec.healthCheckNodePort !== undefined) chosen.healthCheckNodePort = true;
  for (const p of Array.isArray(spec.ports) ? spec.ports : [])
    if (isObj(p) && p.nodePort !== undefined) chosen.ports.add(portKey(p));
  return chosen;
}

/** Drops the node ports the API server allocated, in place; call it before managedFields go. */
export function dropAllocatedNodePorts(service: KubeObject): void {
  const spec = (service as KubeObject & { spec?: unknown }).spec;
  if (!isObj(spec)) return;
  const chosen = chosenNodePorts(service);
  if (Array.isArray(spec.ports))
    for (const p of spec.ports) if (isObj(p) && !chosen.ports.has(portKey(p))) delete p.nodePort;
  if (!chosen.healthCheckNodePort) delete spec.healthCheckNodePort;
}
