// Worker thread: compresses (where it pays) and encrypts blobs, the CPU-heavy half of writing.
// The main thread reads, chunks and hashes, and decides what is new.
import { parentPort, workerData } from "node:worker_threads";
import type { MasterKey } from "./crypto.js";
import { sealBlob } from "./seal.js";

export interface SealRequest {
  job: number;
  data: Uint8Array;
  compress: boolean;
}

export interface SealResponse {
  job: number;
  stored: Uint8Array;
  uncompressedLength?: number;
}

const {
  encrypt: enc,
  macK,
  macR,
} = workerData as { encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array };
const key: MasterKey = { encrypt: Buffer.from(enc), macK: Buffer.from(macK), macR: Buffer.from(macR) };

parentPort?.on("message", (request: SealRequest) => {
  const { stored, uncompressedLength } = sealBlob(key, request.data, request.compress);
  // Small Buffers share a pool; only a buffer of its own can be transferred.
  const own =
    stored.byteOffset === 0 && stored.buffer.byteLength === stored.length ? stored : new Uint8Array(stored);
  const response: SealResponse = {
    job: request.job,
    stored: own,
    uncompressedLength,
  };
  parentPort?.postMessage(response, [own.buffer as ArrayBuffer]);
});
