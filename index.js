'use strict';
// The package's entry: the public API (lib/index.js). The native addon and
// its V8 shim are found and loaded by lib/native.js.

module.exports = require('./lib');
