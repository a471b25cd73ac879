"use strict";

const test = require("node:test");
const assert = require("node:assert");
const { hello } = require("../index.js");

test("hello greets", () => {
  assert.strictEqual(hello("dtm"), "Hello, dtm!");
});
