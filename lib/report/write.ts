/** `cxr report`: collects the runs, renders the figures and writes report/index.html and report/report.md atomically. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError, UsageError } from '../errors';
import { writeDirAtomic } from '../io/atomic';
import { closeBrowser, renderSvg } from '../plots/export';
import { examplePng } from './analysis';
import { collectStudy, type CollectOptions, type StudyData } from './collect';
import { reportDocument } from './document';
import { figureBlocks, renderHtml, renderMarkdown, type RenderedFigures } from './render';

/** Files of a written report. */
export interface ReportFiles {
  dir: string;
  html: string;
  markdown: string;
  figures: number;
  /** Figures that could not be rendered, and why (e.g. no chromium). */
  figureErrors: string[];
  data: StudyData;
}

const OWN = new Set(['index.html', 'report.md', 'figures']);

/** Refuses to replace a folder that is not a report (the whole folder is swapped atomically). */
function checkOutDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const foreign = fs.readdirSync(dir).filter((n) => !OWN.has(n));
  if (foreign.length) throw new UsageError(`${dir}: not a report folder (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose another --out`);
}

/** Writes the report of already collected data into `outDir`. */
export async function writeReportFiles(data: StudyData, outDir: string, opts: { quiet?: boolean } = {}): Promise<ReportFiles> {
  const dir = path.resolve(outDir);
  checkOutDir(dir);
  const blocks = reportDocument(data, (run, png) => examplePng(run.run.dir, png));
  const figures: RenderedFigures = new Map();
  const errors: string[] = [];
  let broken: string | null = null;
  const list = figureBlocks(blocks);
  try {
    for (const f of list) {
      if (broken) {
        figures.set(f.name, { error: broken });
        continue;
      }
      try {
        figures.set(f.name, { svg: await renderSvg(f.figure) });
      } catch (err) {
        // One failure to start the browser would repeat for every figure: report it once.
        broken = describeError(err);
        figures.set(f.name, { error: broken });
        errors.push(`${f.name}: ${broken}`);
      }
    }
  } finally {
    await closeBrowser();
  }
  if (errors.length && !opts.quiet) console.error(`report: figures not rendered (${errors[0]})`);
  await writeDirAtomic(dir, (tmp) => {
    fs.writeFileSync(path.join(tmp, 'index.html'), renderHtml(blocks, figures));
    fs.writeFileSync(path.join(tmp, 'report.md'), renderMarkdown(blocks, 'figures'));
    fs.mkdirSync(path.join(tmp, 'figures'));
    for (const [name, f] of figures) if ('svg' in f) fs.writeFileSync(path.join(tmp, 'figures', `${name}.svg`), f.svg);
  });
  return {
    dir,
    html: path.join(dir, 'index.html'),
    markdown: path.join(dir, 'report.md'),
    figures: [...figures.values()].filter((f) => 'svg' in f).length,
    figureErrors: errors,
    data,
  };
}

/** Collects every finished run under `runsDir` and writes the report into `outDir`. */
export async function writeReport(runsDir: string, outDir: string, opts: CollectOptions = {}): Promise<ReportFiles> {
  checkOutDir(path.resolve(outDir));
  const data = await collectStudy(runsDir, opts);
  return writeReportFiles(data, outDir, opts);
}
