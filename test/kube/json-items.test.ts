// Finding each item's bytes in a LIST response, so objects are stored as the server sent them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { itemRanges } from "../../src/kube/json-items.js";

const slices = (text: string) =>
  itemRanges(Buffer.from(text))?.map(([a, b]) => Buffer.from(text).subarray(a, b).toString());

describe("list items in the raw response", () => {
  it("finds each item, whatever braces, quotes and 'items' their strings hold", () => {
    const items = [
      { metadata: { name: "a", annotations: { note: '{"items":[1,2]} \\"}' } }, data: { x: "]}" } },
      { metadata: { name: "é ✓" }, spec: { list: [{ a: [] }, {}] } },
    ];
    const text = JSON.stringify({ kind: "ConfigMapList", metadata: { continue: "items" }, items });
    assert.deepEqual(
      slices(text)?.map((s) => JSON.parse(s) as unknown),
      items,
    );
  });

  it("finds items that come before other keys, and an empty list", () => {
    assert.deepEqual(slices('{"items":[{"a":1}],"kind":"X"}'), ['{"a":1}']);
    assert.deepEqual(slices('{"kind":"X","items":[]}'), []);
  });

  it("gives up on what it cannot read, so the caller serialises instead", () => {
    assert.equal(slices('{"kind":"X"}'), undefined);
    assert.equal(slices('{"items":[{"a":"unterminated'), undefined);
  });
});
