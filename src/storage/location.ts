// Location URLs, the one string that names a backup location for the CLI and a
// BackupLocation alike:
//   file:///var/lib/arca/backups
//   s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true
//   oss://bucket/prefix?region=cn-hangzhou[&network=internal|accelerate][&endpoint=URL]
import { ArcaError } from "../common/errors.js";

export type OssNetwork = "public" | "internal" | "accelerate";

export type Location =
  | { provider: "file"; path: string }
  | {
      provider: "s3";
      bucket: string;
      prefix: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
    }
  | {
      provider: "oss";
      bucket: string;
      prefix: string;
      region: string;
      network: OssNetwork;
      endpoint?: string;
      forcePathStyle: boolean;
    };

const EXAMPLES =
  "file:///var/lib/arca/backups, s3://bucket/prefix?region=us-east-1, or oss://bucket/prefix?region=cn-hangzhou";

const QUERY_KEYS: Record<string, readonly string[]> = {
  file: [],
  s3: ["region", "endpoint", "forcePathStyle"],
  oss: ["region", "endpoint", "network", "forcePathStyle"],
};

function invalid(url: string, why: string): ArcaError {
  return new ArcaError(`invalid location URL ${JSON.stringify(redactUrl(url))}: ${why}`, {
    hint: `use a URL like ${EXAMPLES}`,
  });
}

/**
 * The userinfo of a URL ("KEY:SECRET@") as `***@`. A secret key may hold '/', '?' or '#', which
 * end the authority for a URL parser: so what comes before the last '@' (ahead of endpoint=) is
 * userinfo when it has no '/' or a ':' ahead of its first '/' ("team/a@b" is a prefix).
 */
function redactUserinfo(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (!scheme) return url;
  const endpoint = url.indexOf("endpoint=");
  const at = (endpoint < 0 ? url : url.slice(0, endpoint)).lastIndexOf("@");
  if (at < scheme.length) return url;
  const before = url.slice(scheme.length, at);
  return !before.includes("/") || before.split("/")[0]!.includes(":") ? `${scheme}***${url.slice(at)}` : url;
}

/**
 * A location URL as it may be shown: no userinfo, in the URL or its endpoint=, no value of a
 * parameter Arca does not know (it may be a key someone tried to pass that way), no fragment.
 */
export function redactUrl(url: string): string {
  let shown = redactUserinfo(url);
  const hash = shown.indexOf("#");
  const fragment = hash < 0 ? "" : "#***";
  if (hash >= 0) shown = shown.slice(0, hash);
  const q = shown.indexOf("?");
  if (q < 0) return shown + fragment;
  const known = Object.values(QUERY_KEYS).flat();
  const query = shown
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!known.includes(key)) return `${key}=***`;
      return `${key}=${key === "endpoint" ? redactEndpoint(safeDecode(value)) : value}`;
    })
    .join("&");
  return `${shown.slice(0, q)}?${query}${fragment}`;
}

/** An endpoint has no business with an '@': whatever is before the last one may be a key. */
function redactEndpoint(value: string): string {
  const at = value.lastIndexOf("@");
  if (at < 0) return value;
  return `${/^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? ""}***${value.slice(at)}`;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parseBool(url: string, name: string, value: string | null): boolean {
  if (value === null || value === "false") return false;
  if (value === "true") return true;
  throw invalid(url, `${name} must be true or false, not ${JSON.stringify(value)}`);
}

function parseEndpoint(url: string, value: string | null): string | undefined {
  if (value === null || value === "") return undefined;
  if (value.includes("@")) throw invalid(url, "credentials do not belong in the endpoint");
  let endpoint: URL;
  try {
    endpoint = new URL(value);
  } catch {
    throw invalid(url, `endpoint ${JSON.stringify(value)} is not a URL (include http:// or https://)`);
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
    throw invalid(url, `endpoint must be http:// or https://, not ${endpoint.protocol}`);
  }
  if (endpoint.username || endpoint.password) throw invalid(url, "credentials do not belong in the endpoint");
  return value.replace(/\/+$/, "");
}

export function parseLocation(url: string): Location {
  // Before parsing: a secret key with a '/' in it would read as a port and a path.
  const credentials = () =>
    invalid(url, "credentials do not belong in the URL; give them through the environment or a Secret");
  if (redactUserinfo(url) !== url) throw credentials();
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(url, "it is not a URL");
  }
  const provider = u.protocol.replace(/:$/, "");
  const allowed = QUERY_KEYS[provider];
  if (!allowed) throw invalid(url, `unknown scheme ${provider}:// (file, s3 and oss are supported)`);
  if (u.username || u.password) throw credentials();
  for (const key of u.searchParams.keys()) {
    if (!allowed.includes(key)) {
      throw invalid(
        url,
        `unknown parameter ${key}${allowed.length ? ` (known: ${allowed.join(", ")})` : ""}`,
      );
    }
  }

  if (provider === "file") {
    if (u.host !== "" && u.host !== "localhost")
      throw invalid(url, "a file URL has no host: write file:///absolute/path");
    const path = decodeURIComponent(u.pathname);
    if (path === "" || path === "/") throw invalid(url, "the path is missing or is the file system root");
    return { provider: "file", path: path.replace(/\/+$/, "") };
  }

  const bucket = u.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw invalid(
      url,
      `bucket name ${JSON.stringify(bucket)} is not valid (3-63 lower-case letters, digits, '.', '-')`,
    );
  }
  if (u.port) throw invalid(url, "put the port in endpoint=, not after the bucket name");
  // URL parsing would quietly resolve "a/../b" to "b": look at the path as written.
  const rawPath = /^[a-z0-9]+:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? "";
  if (rawPath.split("/").some((p) => p === "." || p === ".." || /^%2e{1,2}$/i.test(p))) {
    throw invalid(url, "the prefix may not contain '.' or '..'");
  }
  const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, "");
  const endpoint = parseEndpoint(url, u.searchParams.get("endpoint"));
  const forcePathStyle = parseBool(url, "forcePathStyle", u.searchParams.get("forcePathStyle"));
  const regionParam = u.searchParams.get("region");

  if (provider === "s3") {
    return { provider: "s3", bucket, prefix, region: regionParam || "us-east-1", endpoint, forcePathStyle };
  }
  const network = u.searchParams.get("network") ?? "public";
  if (network !== "public" && network !== "internal" && network !== "accelerate") {
    throw invalid(
      url,
      `network must be internal or accelerate (or absent for the public endpoint), not ${network}`,
    );
  }
  if (!regionParam) throw invalid(url, "an oss:// location needs region= (for example region=cn-hangzhou)");
  if (!/^[a-z0-9-]+$/.test(regionParam))
    throw invalid(url, `region ${JSON.stringify(regionParam)} is not a region id`);
  return { provider: "oss", bucket, prefix, region: regionParam, network, endpoint, forcePathStyle };
}

/** OSS endpoints by network, unless the URL names one. */
export function ossEndpoint(location: Extract<Location, { provider: "oss" }>): string {
  if (location.endpoint) return location.endpoint;
  switch (location.network) {
    case "internal":
      return `https://oss-${location.region}-internal.aliyuncs.com`;
    case "accelerate":
      return "https://oss-accelerate.aliyuncs.com";
    default:
      return `https://oss-${location.region}.aliyuncs.com`;
  }
}

/** The canonical URL of a location, for messages and status. It never holds a secret. */
export function formatLocation(location: Location): string {
  if (location.provider === "file") return `file://${location.path}`;
  const params: Array<[string, string]> = [["region", location.region]];
  if (location.provider === "oss" && location.network !== "public")
    params.push(["network", location.network]);
  if (location.endpoint) params.push(["endpoint", location.endpoint]);
  if (location.forcePathStyle) params.push(["forcePathStyle", "true"]);
  // ':' and '/' are legal in a query: leave endpoints readable.
  const encode = (v: string) => v.replace(/[^A-Za-z0-9:/._~-]/g, (c) => encodeURIComponent(c));
  const path = location.prefix ? `/${location.prefix.split("/").map(encodeURIComponent).join("/")}` : "";
  return `${location.provider}://${location.bucket}${path}?${params.map(([k, v]) => `${k}=${encode(v)}`).join("&")}`;
}
