// Certificates for a test cluster, made with the openssl command: a CA, the apiserver's
// serving certificate, an admin client identity in system:masters, and the service-account
// signing key pair.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(
      `openssl ${args[0]} failed in ${cwd}: ${stderr.trim()} (is the openssl package installed?)`,
    );
  }
}

interface CertSpec {
  name: string;
  subject: Record<string, string>;
  extensions: string[];
  /** Sign with the CA; without it the certificate is self-signed (the CA itself). */
  signed: boolean;
}

function makeCert(dir: string, spec: CertSpec): void {
  const config = [
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "[dn]",
    ...Object.entries(spec.subject).map(([k, v]) => `${k} = ${v}`),
    "[ext]",
    ...spec.extensions,
    "",
  ].join("\n");
  writeFileSync(join(dir, `${spec.name}.cnf`), config);
  const args = [
    "req",
    "-x509",
    "-config",
    `${spec.name}.cnf`,
    "-extensions",
    "ext",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${spec.name}.key`,
    "-out",
    `${spec.name}.crt`,
    "-days",
    "3650",
  ];
  if (spec.signed) args.push("-CA", "ca.crt", "-CAkey", "ca.key");
  openssl(args, dir);
}

export function createClusterPki(dir: string): ClusterPki {
  mkdirSync(dir, { recursive: true });
  makeCert(dir, {
    name: "ca",
    subject: { CN: "arca-test-ca" },
    extensions: [
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign,digitalSignature",
    ],
    signed: false,
  });
  makeCert(dir, {
    name: "apiserver",
    subject: { CN: "kube-apiserver" },
    extensions: [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    ],
    signed: true,
  });
  makeCert(dir, {
    name: "admin",
    subject: { O: "system:masters", CN: "arca-admin" },
    extensions: [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage = clientAuth",
    ],
    signed: true,
  });
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key"], dir);
  openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    serverCert: p("apiserver.crt"),
    serverKey: p("apiserver.key"),
    adminCert: p("admin.crt"),
    adminKey: p("admin.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub"),
  };
}

/** The identities a node adds: the kubelet's client and serving certificates, and the apiserver's towards it. */
export interface NodePki {
  kubeletClientCert: string;
  kubeletClientKey: string;
  kubeletServerCert: string;
  kubeletServerKey: string;
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
}

const LEAF = ["basicConstraints = critical,CA:FALSE", "keyUsage = critical,digitalSignature,keyEncipherment"];

/**
 * The Node authorizer and NodeRestriction admission want the kubelet to be exactly
 * CN=system:node:<name> in O=system:nodes; the apiserver verifies the kubelet's serving
 * certificate when it dials it for exec, logs and port-forward.
 */
export function createNodePki(pki: ClusterPki, nodeName: string): NodePki {
  const dir = pki.dir;
  makeCert(dir, {
    name: "kubelet-client",
    subject: { O: "system:nodes", CN: `system:node:${nodeName}` },
    extensions: [...LEAF, "extendedKeyUsage = clientAuth"],
    signed: true,
  });
  makeCert(dir, {
    name: "kubelet-server",
    subject: { CN: nodeName },
    extensions: [
      ...LEAF,
      "extendedKeyUsage = serverAuth",
      `subjectAltName = DNS:${nodeName},DNS:localhost,IP:127.0.0.1`,
    ],
    signed: true,
  });
  makeCert(dir, {
    name: "apiserver-kubelet-client",
    subject: { O: "system:masters", CN: "kube-apiserver-kubelet-client" },
    extensions: [...LEAF, "extendedKeyUsage = clientAuth"],
    signed: true,
  });
  const p = (f: string) => join(dir, f);
  return {
    kubeletClientCert: p("kubelet-client.crt"),
    kubeletClientKey: p("kubelet-client.key"),
    kubeletServerCert: p("kubelet-server.crt"),
    kubeletServerKey: p("kubelet-server.key"),
    apiserverKubeletClientCert: p("apiserver-kubelet-client.crt"),
    apiserverKubeletClientKey: p("apiserver-kubelet-client.key"),
  };
}

/** A kubeconfig with the admin identity, certificates embedded so the file stands alone. */
export function adminKubeconfig(pki: ClusterPki, server: string, name: string): string {
  return clientKubeconfig(pki.caCert, { cert: pki.adminCert, key: pki.adminKey }, server, name, "admin");
}

/** A standalone kubeconfig for one client certificate. */
export function clientKubeconfig(
  caCert: string,
  client: { cert: string; key: string },
  server: string,
  name: string,
  user: string,
): string {
  const b64 = (f: string) => readFileSync(f).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${name}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caCert)}`,
    "users:",
    `- name: ${name}-${user}`,
    "  user:",
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
    "contexts:",
    `- name: ${name}`,
    "  context:",
    `    cluster: ${name}`,
    `    user: ${name}-${user}`,
    `current-context: ${name}`,
    "",
  ].join("\n");
}
