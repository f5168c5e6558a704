// Label selectors as kubectl writes them: the parts the API server would also accept.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSelector } from "../../src/kube/selector.js";

describe("label selectors", () => {
  const labels = { app: "web", tier: "front", "example.com/team": "a" };
  const cases: Array<[string, boolean]> = [
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app in (web, db)", true],
    ["app notin (web)", false],
    ["tier", true],
    ["!tier", false],
    ["!missing", true],
    ["app=web,tier=front,example.com/team=a", true],
    ["app=web,tier=back", false],
    ["", true],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} ${expected ? "matches" : "does not match"}`, () => {
      assert.equal(parseSelector(text).matches(labels), expected);
    });
  }

  it("matches nothing that has no labels, except negations", () => {
    assert.equal(parseSelector("app=web").matches(undefined), false);
    assert.equal(parseSelector("app!=web").matches(undefined), true);
  });

  for (const bad of ["app in web", "a b", "app=we b", "-bad=x", "app=(x)"]) {
    it(`refuses ${JSON.stringify(bad)}, naming it`, () => {
      assert.throws(
        () => parseSelector(bad),
        (err) => err instanceof Error && err.message.includes(JSON.stringify(bad)),
      );
    });
  }
});
