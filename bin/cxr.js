#!/usr/bin/env node
'use strict';
// TF_ENABLE_ONEDNN_OPTS is left to the backend selection (lib/backend/onednn.ts), which sets it from a per-machine
// probe before the native library loads: TensorFlow 2.21's oneDNN kernels crash (SIGFPE) on some CPUs.
if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
require('tsx/cjs');
require('../lib/cli/main.ts').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`cxr: internal error: ${err && err.stack || err}`); process.exitCode = 70; },
);
