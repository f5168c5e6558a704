// Plays the ECS metadata service (http://100.100.100.200), which cannot exist on this machine:
// it lists one RAM role and hands out its STS credentials, counting how often it is asked.
import { createServer } from "node:http";

export interface RoleCredentials {
  AccessKeyId: string;
  AccessKeySecret: string;
  SecurityToken?: string;
  Expiration: string;
}

export interface FakeMetadataService {
  endpoint: string;
  /** Credential requests served so far (the role listing is not counted). */
  readonly fetches: number;
  stop(): Promise<void>;
}

export async function startMetadataService(
  role: string,
  issue: (n: number) => RoleCredentials,
): Promise<FakeMetadataService> {
  let fetches = 0;
  const base = "/latest/meta-data/ram/security-credentials/";
  const server = createServer((req, res) => {
    if (req.url === base) {
      res.end(role);
    } else if (req.url === `${base}${role}`) {
      fetches++;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ Code: "Success", LastUpdated: new Date().toISOString(), ...issue(fetches) }));
    } else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("metadata service has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get fetches() {
      return fetches;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
