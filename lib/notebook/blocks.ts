/**
 * Report blocks (lib/report/document.ts) shown in a notebook, so notebook 06 shows the same tables, numbers
 * and figures as `npx cxr report`.
 */
import { showAndSave, showMarkdown } from '../plots/display';
import type { Block } from '../report/document';
import { showFrame, tableFrame } from './table';

/** The level-2 sections whose headings are listed, in the report's order (heading blocks included). */
export function reportSections(blocks: readonly Block[], headings: readonly string[]): Block[] {
  const out: Block[] = [];
  let keep = false;
  for (const b of blocks) {
    if (b.kind === 'heading' && b.level <= 2) keep = b.level === 2 && headings.includes(b.text);
    if (keep) out.push(b);
  }
  return out;
}

/** Shows report blocks in a tslab notebook; figures are also saved as `<prefix><name>` (PNG + SVG). */
export async function showBlocks(blocks: readonly Block[], opts: { prefix?: string } = {}): Promise<void> {
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        showMarkdown(`${'#'.repeat(b.level + 1)} ${b.text}`);
        break;
      case 'paragraph':
        showMarkdown(b.text);
        break;
      case 'list':
        showMarkdown(b.items.map((i) => `- ${i}`).join('\n'));
        break;
      case 'table':
        showFrame(tableFrame(b.header, b.rows), { limit: Infinity });
        break;
      case 'figure':
        await showAndSave(b.figure, `${opts.prefix ?? ''}${b.name}`);
        break;
      case 'code':
        showMarkdown(`\`\`\`\n${b.text}\n\`\`\``);
        break;
      case 'details':
        showMarkdown(`**${b.summary}**`);
        await showBlocks(b.blocks, opts);
        break;
    }
  }
}
