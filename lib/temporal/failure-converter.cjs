'use strict';
/**
 * The failure converter of every hostprov process and of the workflow bundle: failure messages and stack
 * traces go into a payload (`encodedAttributes`) instead of plain fields, so the payload codec encrypts them
 * too; an activity error such as "connect ECONNREFUSED <host address>" would otherwise sit in history in
 * clear text. Decoding reads both forms, so older histories still decode and replay.
 *
 * CommonJS on purpose: the worker loads it with `require(failureConverterPath)` and the workflow bundler
 * builds it into the sandbox (worker/bundle.ts), so it must load without a TypeScript loader and import
 * nothing but the Temporal common package.
 */
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
