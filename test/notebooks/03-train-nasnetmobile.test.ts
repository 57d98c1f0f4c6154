// Notebook 03 executed headless with the tiny profile (its own file, so the training notebooks run in parallel).
import { test } from 'node:test';
import { checkTrainingNotebook } from './training';

test('03-train-nasnetmobile.ipynb trains nasnetmobile on both tasks (tiny profile) and plots both phases', { timeout: 600_000 }, () =>
  checkTrainingNotebook('03-train-nasnetmobile.ipynb', 'nasnetmobile'));
