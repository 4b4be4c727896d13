#!/usr/bin/env node
// Read a JSON-LD document with jsonld.js and print its N-Quads, strictly offline.
//
// Usage: node to-nquads.js DOC.jsonld [URL=CONTEXT_FILE ...]
//
// The document loader serves only the bundled documents named on the command line (each
// URL=FILE pair maps a context URL to a local file) and refuses every other URL, so a test
// can prove that reading needs nothing from the network. A refused URL ends the script with
// exit code 3 and "refused: URL" on stderr; any other JSON-LD error exits 2.
'use strict';

const fs = require('fs');
const jsonld = require('jsonld');

async function main(argv) {
  if (argv.length < 1) {
    process.stderr.write('usage: node to-nquads.js DOC.jsonld [URL=FILE ...]\n');
    return 2;
  }
  const doc = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
  const bundled = new Map();
  for (const pair of argv.slice(1)) {
    const i = pair.indexOf('=');
    bundled.set(pair.slice(0, i), JSON.parse(fs.readFileSync(pair.slice(i + 1), 'utf8')));
  }
  const refused = [];
  const documentLoader = async (url) => {
    if (bundled.has(url)) {
      return {contextUrl: null, documentUrl: url, document: bundled.get(url)};
    }
    refused.push(url);
    throw new Error(`refused: ${url}`);
  };
  try {
    const nquads = await jsonld.toRDF(doc, {format: 'application/n-quads', documentLoader});
    process.stdout.write(nquads);
    return 0;
  } catch (err) {
    if (refused.length) {
      process.stderr.write(`refused: ${refused[0]}\n`);
      return 3;
    }
    process.stderr.write(`jsonld.js error: ${err && err.message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
