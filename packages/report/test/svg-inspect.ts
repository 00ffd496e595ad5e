// Test helpers that read charts back out of the rendered HTML: find an <svg> by
// its data-chart attribute, list its elements and their numeric attributes.

export interface Element {
  tag: string;
  attrs: Record<string, string>;
}

export function chartSvg(html: string, kind: string, id?: string): string {
  const pattern = new RegExp(`<svg[^>]*data-chart="${kind}"[^>]*>[\\s\\S]*?</svg>`, 'g');
  const all = html.match(pattern) ?? [];
  const found = id ? all.filter((s) => s.includes(`id="${id}"`)) : all;
  if (found.length !== 1)
    throw new Error(`expected one chart '${kind}'${id ? ` with id ${id}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** Elements of the plot itself: legend swatches share the data's classes and are left out. */
export function elements(svg: string, tag: string, className?: string): Element[] {
  const out: Element[] = [];
  const plot = svg.replace(/<g class="legend">[\s\S]*?<\/g>/g, '');
  for (const m of plot.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    if (className === undefined || (attrs.class ?? '').split(' ').includes(className)) out.push({ tag, attrs });
  }
  return out;
}

export function num(e: Element, name: string): number {
  const raw = e.attrs[name];
  if (raw === undefined) throw new Error(`<${e.tag}> has no ${name}`);
  return Number(raw);
}

const GEOMETRY = ['x', 'y', 'x1', 'x2', 'y1', 'y2', 'cx', 'cy', 'r', 'width', 'height'];

/** Every number in geometry attributes, points and path data of the chart. */
export function geometryNumbers(svg: string): number[] {
  const numbers: number[] = [];
  for (const m of svg.matchAll(/\s([\w-]+)="([^"]*)"/g)) {
    const [, name, value] = m as unknown as [string, string, string];
    if (GEOMETRY.includes(name)) numbers.push(Number(value));
    else if (name === 'points' || name === 'd')
      for (const t of value.split(/[\s,MHVLZ]+/).filter(Boolean)) numbers.push(Number(t));
    else if (name === 'viewBox') for (const t of value.split(/\s+/)) numbers.push(Number(t));
  }
  return numbers;
}

export function texts(svg: string, className?: string): string[] {
  const out: string[] = [];
  for (const m of svg.matchAll(/<text\b([^>]*)>([\s\S]*?)<\/text>/g)) {
    const cls = /class="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    if (className === undefined || cls.split(' ').includes(className))
      out.push(m[2]!.replace(/<title>[\s\S]*?<\/title>/g, ''));
  }
  return out;
}
