import type { KubeAccess } from "./config.js";
import { apiError, kubeRequest } from "./transport.js";

/** The decoded data of a Secret, or undefined when it does not exist. */
export async function readSecretData(
  access: KubeAccess,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<Record<string, string> | undefined> {
  const res = await kubeRequest(access, {
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
    signal,
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw apiError(`reading Secret ${namespace}/${name}`, res);
  const secret = JSON.parse(res.body.toString("utf8")) as { data?: Record<string, string> };
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
}
