// Arca's own kubeconfig reader, against kubectl's rules and the real API server: merged files,
// contexts, paths relative to their file, token files and exec credential plugins.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  "current-context": string;
}

describe("kubeconfig", () => {
  let env: TestEnvironment;
  let admin: Kubeconfig;
  const scratch = mkdtempSync(join(tmpdir(), "arca-kubeconfig-"));
  const write = (name: string, doc: unknown) => {
    const path = join(scratch, name);
    writeFileSync(path, stringify(doc));
    return path;
  };
  const namespaces = async (kubeconfig: string, context?: string) => {
    const client = new KubeClient(await loadKubeConfig({ kubeconfig, ...(context ? { context } : {}) }));
    try {
      return await client.getJson<{ items: unknown[] }>("listing namespaces", "/api/v1/namespaces");
    } finally {
      client.close();
    }
  };

  before(async () => {
    env = await testEnvironment();
    admin = parse(readFileSync(env.cluster.kubeconfigPath, "utf8")) as Kubeconfig;
  });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await env?.stop();
  });

  it("merges KUBECONFIG files as kubectl does: the first to define a name or the context wins", async () => {
    const users = write("users.yaml", { users: admin.users });
    const rest = write("rest.yaml", {
      ...admin,
      users: [{ name: admin.users[0]?.name, user: { token: "wrong" } }],
    });
    const access = await loadKubeConfig(
      {},
      { KUBECONFIG: [join(scratch, "absent.yaml"), users, rest].join(":") },
    );
    assert.equal(access.server, env.cluster.server);
    assert.ok((await access.credentials()).cert, "the client certificate came from the first file");
  });

  it("runs an exec credential plugin and uses what it prints", async () => {
    const user = admin.users[0]?.user ?? {};
    const plugin = join(scratch, "plugin.sh");
    const credential = {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: {
        clientCertificateData: Buffer.from(String(user["client-certificate-data"]), "base64").toString(),
        clientKeyData: Buffer.from(String(user["client-key-data"]), "base64").toString(),
      },
    };
    writeFileSync(plugin, `#!/bin/sh\ncat <<'EOF'\n${JSON.stringify(credential)}\nEOF\n`);
    chmodSync(plugin, 0o755);
    const path = write("exec.yaml", {
      ...admin,
      users: [
        {
          name: admin.users[0]?.name,
          user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } },
        },
      ],
    });
    assert.ok(((await namespaces(path))?.items.length ?? 0) > 0);
  });

  it("reads certificate files relative to the kubeconfig's own directory", async () => {
    const user = admin.users[0]?.user ?? {};
    writeFileSync(join(scratch, "admin.crt"), Buffer.from(String(user["client-certificate-data"]), "base64"));
    writeFileSync(join(scratch, "admin.key"), Buffer.from(String(user["client-key-data"]), "base64"));
    const path = write("relative.yaml", {
      ...admin,
      users: [
        {
          name: admin.users[0]?.name,
          user: { "client-certificate": "admin.crt", "client-key": "admin.key" },
        },
      ],
    });
    assert.ok(((await namespaces(path))?.items.length ?? 0) > 0);
  });

  it("names the context that is missing, and the ones there are", async () => {
    await assert.rejects(
      loadKubeConfig({ kubeconfig: env.cluster.kubeconfigPath, context: "nope" }),
      (err) => err instanceof Error && /context nope is not in the kubeconfig/.test(err.message),
    );
    const provider = write("provider.yaml", {
      ...admin,
      users: [{ name: admin.users[0]?.name, user: { "auth-provider": { name: "gcp" } } }],
    });
    await assert.rejects(loadKubeConfig({ kubeconfig: provider }), /uses an auth-provider/);
  });
});
