// %%{name}: starter module written by dtm; replace it with your code.
"use strict";

function hello(name = "world") {
  return `Hello, ${name}!`;
}

module.exports = { hello };

if (require.main === module) {
  console.log(hello());
}
