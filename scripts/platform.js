'use strict';
// Which binary this Node needs: platform triple + ABI (NODE_MODULE_VERSION).
// Shared by the loader (index.js) and the build/install scripts.

function libc() {
  if (process.platform !== 'linux') return '';
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return glibc ? '-gnu' : '-musl';
}

const triple = `${process.platform}-${process.arch}${libc()}`;
const abi = Number(process.versions.modules);

module.exports = {
  triple,
  abi,
  binaryName: `heapscope.${triple}.abi${abi}.node`,
};
