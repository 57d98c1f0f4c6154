#!/usr/bin/env node
'use strict';
// TensorFlow 2.21's oneDNN kernels crash (SIGFPE) on some CPUs for 1x1 convolutions; it must be
// off before the native library loads. A user who sets the variable keeps their choice.
if (process.env.TF_ENABLE_ONEDNN_OPTS === undefined) process.env.TF_ENABLE_ONEDNN_OPTS = '0';
if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
require('tsx/cjs');
require('../lib/cli/main.ts').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`cxr: internal error: ${err && err.stack || err}`); process.exitCode = 70; },
);
