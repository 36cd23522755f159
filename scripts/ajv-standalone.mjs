// Turns an ajv-compiled validator into the text of an ES module (ajv standalone code) for the *.generated.ts validators.
import standalone from 'ajv/dist/standalone/index.js';

/**
 * The module text for `validate` compiled by `ajv` (created with `code: { source: true, esm: true }`): `header` first,
 * then the import lines of the runtime dependencies ajv emits as require(). `requires` maps each module ajv may
 * require() to [the expression replacing the require() call, the line(s) that make it available]; any other require()
 * is an error, so an ajv upgrade that adds a dependency fails the generation instead of shipping a module that cannot load.
 */
export function standaloneModule(ajv, validate, header, requires) {
  const imports = new Set();
  const code = standalone.default(ajv, validate).replace(/require\("([^"]*)"\)/g, (call, name) => {
    const known = requires[name];
    if (!known) throw new Error(`ajv-standalone: unexpected ${call} in the standalone code`);
    imports.add(known[1]);
    return known[0];
  });
  return [header, '/* eslint-disable */', '// @ts-nocheck', ...imports, code.replace(/^"use strict";/, ''), ''].join('\n');
}
