// Notebook 04 executed headless with the tiny profile (its own file, so the training notebooks run in parallel).
import { test } from 'node:test';
import { checkTrainingNotebook } from './training';

test('04-train-resnet101.ipynb trains resnet101 on both tasks (tiny profile) and plots both phases', { timeout: 600_000 }, () =>
  checkTrainingNotebook('04-train-resnet101.ipynb', 'resnet101'));
