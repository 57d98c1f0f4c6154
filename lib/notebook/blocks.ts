/**
 * Report blocks (lib/report/document.ts) shown in a notebook, so notebook 06 shows the same tables, numbers
 * and figures as `npx cxr report`.
 */
import { showAndSave, showMarkdown, showTable, type Tabular } from '../plots/display';
import type { Block } from '../report/document';

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

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A report table as something {@link showTable} renders (HTML, Markdown fallback). */
export function blockTable(t: { header: readonly string[]; rows: readonly (readonly string[])[] }): Tabular {
  return {
    toHTML: () =>
      `<table><thead><tr>${t.header.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
      t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') +
      '</tbody></table>',
    toMarkdown: () =>
      [t.header, t.header.map(() => '---'), ...t.rows].map((r) => `| ${r.map(escapeCell).join(' | ')} |`).join('\n'),
  };
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
        showTable(blockTable(b), { limit: Infinity });
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
