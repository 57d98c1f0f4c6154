/** Report blocks to a self-contained HTML page and to Markdown (pure; figures come pre-rendered as SVG). */
import { markdownTable } from '../eval/report-table';
import type { Block } from './document';

/** Rendered figures by name: an SVG document, or the reason it could not be rendered. */
export type RenderedFigures = Map<string, { svg: string } | { error: string }>;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escaped text with `code` spans. */
function inline(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function anchor(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

const STYLE = `
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;max-width:1180px;margin:2em auto;padding:0 1.2em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}th,td{border:1px solid #ccc;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#f2f2f2}tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.88em;color:#555}
pre{background:#f6f6f6;padding:.7em;overflow-x:auto;font-size:.85em}code{background:#f2f2f2;padding:0 .2em}
details{margin:.6em 0}summary{cursor:pointer;font-weight:bold}.missing{color:#a00}nav ul{columns:2}
`;

function blockHtml(b: Block, figures: RenderedFigures): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level} id="${anchor(b.text)}">${inline(b.text)}</h${b.level}>`;
    case 'paragraph':
      return `<p>${inline(b.text)}</p>`;
    case 'list':
      return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
    case 'table':
      return `<table><thead><tr>${b.header.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${b.rows
        .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;
    case 'figure': {
      const f = figures.get(b.name);
      if (!f || 'error' in f) return `<p class="missing">Figure “${escapeHtml(b.caption)}” not rendered: ${escapeHtml(f && 'error' in f ? f.error : 'not rendered')}</p>`;
      // An <img> with a data URI: self-contained, and the SVG's ids cannot clash with other figures'.
      const uri = `data:image/svg+xml;base64,${Buffer.from(f.svg, 'utf8').toString('base64')}`;
      return `<figure><img alt="${escapeHtml(b.caption)}" src="${uri}"><figcaption>${inline(b.caption)}</figcaption></figure>`;
    }
    case 'code':
      return `<pre>${escapeHtml(b.text)}</pre>`;
    case 'details':
      return `<details><summary>${inline(b.summary)}</summary>${b.blocks.map((x) => blockHtml(x, figures)).join('\n')}</details>`;
  }
}

/** A self-contained HTML page: styles inline, figures embedded as SVG data URIs, no external resources. */
export function renderHtml(blocks: readonly Block[], figures: RenderedFigures): string {
  const title = blocks.find((b) => b.kind === 'heading' && b.level === 1);
  const toc = blocks.filter((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 2);
  const nav = toc.length ? `<nav><ul>${toc.map((t) => `<li><a href="#${anchor(t.text)}">${inline(t.text)}</a></li>`).join('')}</ul></nav>` : '';
  const body = blocks.map((b) => blockHtml(b, figures));
  // The navigation goes after the title and its first paragraph.
  const at = Math.min(2, body.length);
  body.splice(at, 0, nav);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title && title.kind === 'heading' ? title.text : 'Report')}</title><style>${STYLE}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

function blockMarkdown(b: Block, figureDir: string): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level)} ${b.text}`;
    case 'paragraph':
      return b.text;
    case 'list':
      return b.items.map((i) => `- ${i}`).join('\n');
    case 'table':
      return markdownTable(b.header, b.rows).join('\n');
    case 'figure':
      return `![${b.caption}](${figureDir}/${b.name}.svg)\n\n*${b.caption}*`;
    case 'code':
      return '```\n' + b.text + '\n```';
    case 'details':
      return `<details><summary>${escapeHtml(b.summary)}</summary>\n\n${b.blocks.map((x) => blockMarkdown(x, figureDir)).join('\n\n')}\n\n</details>`;
  }
}

/** Markdown, with figures linked as `<figureDir>/<name>.svg`. */
export function renderMarkdown(blocks: readonly Block[], figureDir = 'figures'): string {
  return blocks.map((b) => blockMarkdown(b, figureDir)).join('\n\n') + '\n';
}

/** Every figure block, including those inside details. */
export function figureBlocks(blocks: readonly Block[]): Extract<Block, { kind: 'figure' }>[] {
  return blocks.flatMap((b) => (b.kind === 'figure' ? [b] : b.kind === 'details' ? figureBlocks(b.blocks) : []));
}
