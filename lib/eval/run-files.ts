/**
 * A finished run folder (`runs/<id>/`, written by `cxr train`) as evaluation inputs: its record, its split and
 * its validation and test predictions with patient ids. Reads only; no model, no images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputFileError } from '../errors';
import { readCsv } from '../io/csv';
import { SPLIT_CSV_COLUMNS } from '../data/split';
import { readHistory, readRunRecord, type RunRecord } from '../train/run';
import { taskSpec } from '../train/tasks';
import type { HistoryRow } from '../train/trainer';
import type { Prediction } from './types';

/** One row of a run's split.csv. */
export interface SplitRow {
  file: string;
  label: string;
  patientId: string;
  split: 'train' | 'val' | 'test';
}

/** What evaluation needs from a run folder. */
export interface RunFiles {
  dir: string;
  record: RunRecord;
  /** The task's classes in output order (binary: covid, not-covid). */
  classes: string[];
  split: SplitRow[];
  val: Prediction[];
  test: Prediction[];
  history: HistoryRow[];
}

/** True when the run finished: its model and predictions.csv are written. */
export function runComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'predictions.csv')) && fs.existsSync(path.join(dir, 'model', 'model.json'));
}

/** Reads a run's split.csv. */
export function readRunSplit(dir: string): SplitRow[] {
  const file = path.join(dir, 'split.csv');
  if (!fs.existsSync(file)) throw new InputFileError(dir, 'not a run folder (no split.csv)');
  return readCsv(file, SPLIT_CSV_COLUMNS).map((r, i) => {
    if (r.split !== 'train' && r.split !== 'val' && r.split !== 'test') {
      throw new InputFileError(file, `line ${i + 2}: unknown split '${r.split}'`);
    }
    return { file: r.file, label: r.label, patientId: r.patient_id, split: r.split };
  });
}

/**
 * Reads a complete run: record, split, history and the val/test predictions (probabilities per class in
 * the task's order, patient ids from split.csv).
 */
export function readRunFiles(dir: string): RunFiles {
  const record = readRunRecord(dir);
  const classes = [...taskSpec(record.config.task).classes];
  const predFile = path.join(dir, 'predictions.csv');
  if (!fs.existsSync(predFile)) throw new InputFileError(dir, 'the run has no predictions.csv yet (training not finished; see cxr train --resume)');
  const split = readRunSplit(dir);
  const patients = new Map(split.map((r) => [r.file, r.patientId]));
  const probCols = classes.map((c) => `prob_${c}`);
  const rows = readCsv(predFile, ['file', 'label', 'split', ...probCols]);
  const val: Prediction[] = [];
  const test: Prediction[] = [];
  rows.forEach((r, i) => {
    const where = `${predFile}: line ${i + 2}`;
    const label = classes.indexOf(r.label);
    if (label < 0) throw new InputFileError(where, `label '${r.label}' is not one of ${classes.join(', ')}`);
    const patientId = patients.get(r.file);
    if (patientId === undefined) throw new InputFileError(where, `${r.file} is not in the run's split.csv`);
    const probs = probCols.map((c) => Number(r[c]));
    if (probs.some((p) => !(p >= 0 && p <= 1))) throw new InputFileError(where, `probabilities must lie in [0, 1]`);
    const p: Prediction = { file: r.file, patientId, label, probs };
    if (r.split === 'val') val.push(p);
    else if (r.split === 'test') test.push(p);
  });
  const history = fs.existsSync(path.join(dir, 'history.csv')) ? readHistory(dir) : [];
  return { dir, record, classes, split, val, test, history };
}

/** Run folders under `runsDir` (those with a config.json), sorted by name. */
export function listRunDirs(runsDir: string): string[] {
  if (!fs.existsSync(runsDir)) return [];
  return fs
    .readdirSync(runsDir)
    .sort()
    .map((name) => path.join(runsDir, name))
    .filter((d) => fs.existsSync(path.join(d, 'config.json')));
}
