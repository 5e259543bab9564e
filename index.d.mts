// Types of the ES module entry: the named exports of index.d.ts, and all of
// them as the default export.
import * as heapscope from './index.js';

export * from './index.js';
export default heapscope;
