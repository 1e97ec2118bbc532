import { assertEquals, assertThrows } from "../../assert.ts";
import {
  array,
  boolean,
  nonNegativeInteger,
  nullable,
  object,
  SchemaError,
  string,
} from "../../../commands/toolkit/schema.ts";

const ITEM = object({
  id: nonNegativeInteger,
  name: nullable(string),
  tags: nullable(array(string)),
  on: boolean,
});
const DOC = object({ items: array(ITEM) });

Deno.test("schema: a valid document comes back typed, with exactly the schema's fields; missing nullables are null", () => {
  const value = {
    items: [{ id: 1, name: "a", tags: ["x"], on: true, extra: 5 }, { id: 2, on: false }],
    more: 1,
  };
  assertEquals(DOC.check(value, ""), {
    items: [{ id: 1, name: "a", tags: ["x"], on: true }, { id: 2, name: null, tags: null, on: false }],
  });
});

Deno.test("schema: the first wrong field is named by its path, with what it must be and what it is", () => {
  const cases: [unknown, string][] = [
    [[], " must be an object (it is an array)"],
    [{}, "items must be an array (it is missing)"],
    [{ items: [{ id: -5, on: true }] }, "items[0].id must be a non-negative integer (it is number -5)"],
    [{ items: [{ id: 7.5, on: true }] }, "items[0].id must be a non-negative integer (it is number 7.5)"],
    [
      { items: [{ id: 1e400, on: true }] },
      "items[0].id must be a non-negative integer (it is number Infinity)",
    ],
    [
      { items: [{ id: 2 ** 53, on: true }] },
      "items[0].id must be a non-negative integer (it is number 9007199254740992)",
    ],
    [{ items: [{ id: "x", on: true }] }, 'items[0].id must be a non-negative integer (it is the string "x")'],
    [{ items: [{ id: 1, on: true, name: 3 }] }, "items[0].name must be a string or null (it is number 3)"],
    [{ items: [{ id: 1, on: true, tags: ["a", null] }] }, "items[0].tags[1] must be a string (it is null)"],
    [{ items: [{ id: 1 }] }, "items[0].on must be true or false (it is missing)"],
  ];
  for (const [value, message] of cases) {
    const error = assertThrows(() => DOC.check(value, ""), SchemaError);
    assertEquals(error.message, message);
  }
});
