'use strict';
// Worker threads start without the parent's TypeScript loader: register tsx, then run the TS worker.
require('tsx/cjs');
require('./image-worker.ts');
