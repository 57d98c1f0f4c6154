// Notebook 05 executed headless with the tiny profile (its own file, so the training notebooks run in parallel).
import { test } from 'node:test';
import { checkTrainingNotebook } from './training';

test('05-train-inceptionresnetv2.ipynb trains inceptionresnetv2 on both tasks (tiny profile) and plots both phases', { timeout: 600_000 }, () =>
  checkTrainingNotebook('05-train-inceptionresnetv2.ipynb', 'inceptionresnetv2'));
