// Finding each item's bytes in a LIST response, so objects are stored as the server sent them,
// and the few members the backup reads, so the rest is never parsed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scanList, type Field, type Span } from "../../src/kube/json-items.js";

function scanned(text: string) {
  const b = Buffer.from(text);
  const at = (s: Span | undefined) =>
    s ? (JSON.parse(b.subarray(s[0], s[1]).toString()) as unknown) : undefined;
  const spans = scanList(b);
  if (!spans) return undefined;
  const field = (i: number, f: Field) => {
    const start = spans.items.start(i, f);
    return start < 0 ? undefined : at([start, spans.items.end(i, f)]);
  };
  return {
    metadata: at(spans.metadata),
    items: Array.from({ length: spans.items.length }, (_, i) => ({
      item: field(i, "item"),
      apiVersion: field(i, "apiVersion"),
      kind: field(i, "kind"),
      name: field(i, "name"),
      namespace: field(i, "namespace"),
      labels: field(i, "labels"),
    })),
  };
}

describe("list items in the raw response", () => {
  it("finds each item and its head, whatever braces, quotes and 'items' their strings hold", () => {
    const items = [
      {
        metadata: {
          annotations: { note: '{"items":[1,2]} \\"}', name: "not this one" },
          name: 'a "quoted" \\ name',
          labels: { app: "x" },
          managedFields: [{ fieldsV1: { "f:metadata": { "f:name": {} } }, manager: "m" }],
        },
        data: { x: "]}", metadata: { name: "nor this" } },
      },
      {
        apiVersion: "g/v1",
        kind: "Widget",
        metadata: { namespace: "ns", name: "é ✓" },
        spec: { list: [{ a: [] }, {}] },
      },
    ];
    const text = JSON.stringify({
      kind: "ConfigMapList",
      metadata: { continue: "items", resourceVersion: "7" },
      items,
    });
    assert.deepEqual(scanned(text), {
      metadata: { continue: "items", resourceVersion: "7" },
      items: [
        {
          item: items[0],
          apiVersion: undefined,
          kind: undefined,
          name: 'a "quoted" \\ name',
          namespace: undefined,
          labels: { app: "x" },
        },
        {
          item: items[1],
          apiVersion: "g/v1",
          kind: "Widget",
          name: "é ✓",
          namespace: "ns",
          labels: undefined,
        },
      ],
    });
  });

  it("reads pretty-printed bodies, items before other keys, and empty lists", () => {
    const pretty = JSON.stringify(
      { items: [{ metadata: { name: "a" }, n: 1.5e3, t: true, z: null }], kind: "X" },
      null,
      2,
    );
    assert.deepEqual(
      scanned(pretty)?.items.map((i) => i.name),
      ["a"],
    );
    assert.deepEqual(scanned('{"kind":"X","items":[]}')?.items, []);
    assert.deepEqual(scanned('{"kind":"X","items":null}')?.items, []);
  });

  it("gives up on what it cannot read, so the caller parses the page whole", () => {
    assert.equal(scanned('{"kind":"X"}'), undefined);
    assert.equal(scanned('{"items":[{"a":"unterminated'), undefined);
    assert.equal(scanned('{"items":[{"a":1}]} trailing'), undefined);
    assert.equal(scanned('{"items":[{"metadata":[1]}]}'), undefined);
  });
});
