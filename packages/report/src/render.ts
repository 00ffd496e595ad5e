// One self-contained HTML document from eval and/or tune results: inline CSS and
// SVG only, no scripts, no external resources (a Content-Security-Policy forbids
// them), so it opens offline and reads the same with JavaScript off.
import { invalidParameterError, isPlainObject } from '@tta/util';
import {
  accuracyChart,
  chosenCandidate,
  classLiftChart,
  errorBarKind,
  flipsChart,
  frontierChart,
  greedyChart,
  learnedWeightsChart,
  paretoFrontier,
  reliabilityChart,
  type FlipRow,
} from './charts';
import { MISSING, compact, escapeHtml, finite, fixed, integer, pValue, passes, pct, pp } from './format';
import { checkGallery, gallerySection } from './gallery';
import type { DataDescription, EvalReport, PolicySummary, ReportInput, TuneCandidate, TuneReport } from './types';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

function checkSummary(name: string, value: unknown): void {
  if (!isPlainObject(value)) throw invalidParameterError(name, 'a policy summary object', value);
  if (typeof value.name !== 'string') throw invalidParameterError(`${name}.name`, 'a string', value.name);
  if (!isPlainObject(value.accuracy))
    throw invalidParameterError(`${name}.accuracy`, 'an object { mean, std, runs }', value.accuracy);
}

export function checkInput(input: unknown): asserts input is ReportInput {
  if (!isPlainObject(input)) throw invalidParameterError('input', 'an object { eval?, tune?, meta }', input);
  const meta = input.meta;
  if (!isPlainObject(meta))
    throw invalidParameterError('input.meta', 'an object { command, generatedAt, versions }', meta);
  if (typeof meta.command !== 'string') throw invalidParameterError('input.meta.command', 'a string', meta.command);
  if (typeof meta.generatedAt !== 'string')
    throw invalidParameterError('input.meta.generatedAt', 'a string', meta.generatedAt);
  if (!isPlainObject(meta.versions))
    throw invalidParameterError('input.meta.versions', 'an object of version strings', meta.versions);
  if (meta.config !== undefined && !isPlainObject(meta.config))
    throw invalidParameterError('input.meta.config', 'an object', meta.config);
  if (input.eval === undefined && input.tune === undefined)
    throw invalidParameterError('input', 'eval or tune results', input);
  if (
    input.classNames !== undefined &&
    (!Array.isArray(input.classNames) || input.classNames.some((c) => typeof c !== 'string'))
  ) {
    throw invalidParameterError('input.classNames', 'an array of strings', input.classNames);
  }
  if (input.eval !== undefined) {
    const ev = input.eval;
    if (!isPlainObject(ev)) throw invalidParameterError('input.eval', "an object of schema 'tta-eval/1'", ev);
    if (ev.schema !== 'tta-eval/1') throw invalidParameterError('input.eval.schema', "'tta-eval/1'", ev.schema);
    checkSummary('input.eval.baseline', ev.baseline);
    if (!Array.isArray(ev.policies))
      throw invalidParameterError('input.eval.policies', 'an array of policy summaries', ev.policies);
    ev.policies.forEach((p, i) => checkSummary(`input.eval.policies[${i}]`, p));
  }
  if (input.tune !== undefined) {
    const tune = input.tune;
    if (!isPlainObject(tune)) throw invalidParameterError('input.tune', "an object of schema 'tta-tune/1'", tune);
    if (tune.schema !== 'tta-tune/1') throw invalidParameterError('input.tune.schema', "'tta-tune/1'", tune.schema);
    if (!Array.isArray(tune.candidates))
      throw invalidParameterError('input.tune.candidates', 'an array of candidates', tune.candidates);
    if (!isPlainObject(tune.best) || typeof tune.best.name !== 'string')
      throw invalidParameterError('input.tune.best', 'an object with a name', tune.best);
    if (tune.best.test != null) checkSummary('input.tune.best.test', tune.best.test);
    if (tune.best.baseline != null) checkSummary('input.tune.best.baseline', tune.best.baseline);
  }
  if (input.gallery != null) checkGallery(input.gallery);
}

/** The eval policy with the highest mean accuracy (first on ties). */
export function bestPolicy(policies: PolicySummary[]): PolicySummary | undefined {
  let best: PolicySummary | undefined;
  for (const p of policies) {
    const acc = finite(p.accuracy.mean);
    if (acc !== undefined && (best === undefined || acc > (finite(best.accuracy.mean) ?? -Infinity))) best = p;
  }
  return best;
}

function classNamesFor(input: ReportInput, summaries: PolicySummary[], data: DataDescription | undefined): string[] {
  const classes = Math.max(
    0,
    ...summaries.map((s) => Math.max(s.perClass?.length ?? 0, s.flips?.perClass?.length ?? 0)),
  );
  if (input.classNames)
    return Array.from(
      { length: Math.max(classes, input.classNames.length) },
      (_, k) => input.classNames![k] ?? `class ${k}`,
    );
  if (data?.name === 'cifar10' && classes <= 10) return CIFAR10_CLASSES.slice(0, Math.max(classes, 10));
  return Array.from({ length: classes }, (_, k) => `class ${k}`);
}

function table(
  headers: string[],
  rows: string[][],
  options: { numeric?: boolean[]; highlight?: boolean[]; className?: string } = {},
): string {
  const num = (i: number) => (options.numeric?.[i] ? ' class="num"' : '');
  const head = `<thead><tr>${headers.map((h, i) => `<th scope="col"${num(i)}>${h}</th>`).join('')}</tr></thead>`;
  const body = rows
    .map(
      (cells, r) =>
        `<tr${options.highlight?.[r] ? ' class="highlight"' : ''}>${cells.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td${num(i)}>${c}</td>`)).join('')}</tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table${options.className ? ` class="${options.className}"` : ''}>${head}<tbody>${body}</tbody></table></div>`;
}

function liftCell(p: PolicySummary, isBaseline: boolean): string {
  if (isBaseline) return MISSING;
  const ci = p.lift?.ci95;
  const lo = finite(ci?.[0]);
  const hi = finite(ci?.[1]);
  const interval =
    lo === undefined || hi === undefined
      ? ''
      : ` <span class="ci">[${escapeHtml(pp(lo))}, ${escapeHtml(pp(hi))}]</span>`;
  const lift = finite(p.lift?.mean);
  const cls = lift === undefined ? '' : lo !== undefined && lo > 0 ? 'good' : hi !== undefined && hi < 0 ? 'bad' : '';
  return `<span class="${cls}">${escapeHtml(pp(lift))}</span>${interval}`;
}

function summaryTable(
  baseline: PolicySummary,
  policies: PolicySummary[],
  bestName: string | undefined,
  repeats: number,
): string {
  const showTop5 = [baseline, ...policies].some((p) => p.top5 && finite(p.top5.mean) !== undefined);
  const headers = [
    'policy',
    'views',
    'accuracy',
    ...(showTop5 ? ['top-5'] : []),
    'lift [95% CI]',
    'McNemar p',
    'NLL',
    'ECE',
    'Brier',
    'img/s',
  ];
  const numeric = headers.map((_, i) => i > 0);
  const rows = [baseline, ...policies].map((p, i) => {
    const views = finite(p.views);
    const cost = finite(p.forwardPasses);
    const viewText =
      views === undefined
        ? MISSING
        : cost !== undefined && Math.abs(cost - views) > 1e-9
          ? `${compact(views)} (${passes(cost)} passes)`
          : compact(views);
    const accuracy =
      repeats > 1 && finite(p.accuracy.std) !== undefined
        ? `${pct(p.accuracy.mean)} ± ${pct(p.accuracy.std)}`
        : pct(p.accuracy.mean);
    const spec = p.viewSpec
      ? `<div class="spec">${escapeHtml(p.viewSpec)}${p.merge ? ` · ${escapeHtml(p.merge)}` : ''}${p.fill ? ` · ${escapeHtml(p.fill)}` : ''}</div>`
      : '';
    return [
      `${escapeHtml(p.name)}${i === 0 ? ' <span class="tag">baseline</span>' : p.name === bestName ? ' <span class="tag best">best</span>' : ''}${spec}`,
      escapeHtml(viewText),
      escapeHtml(accuracy),
      ...(showTop5 ? [escapeHtml(pct(p.top5?.mean))] : []),
      liftCell(p, i === 0),
      i === 0 ? MISSING : escapeHtml(pValue(p.lift?.mcnemarP)),
      escapeHtml(fixed(p.nll)),
      escapeHtml(pct(p.ece)),
      escapeHtml(fixed(p.brier)),
      escapeHtml(integer(p.timing?.imagesPerSecond)),
    ];
  });
  return table(headers, rows, {
    numeric,
    highlight: [false, ...policies.map((p) => p.name === bestName)],
    className: 'summary',
  });
}

/** Per-class lift of every policy as a colour-coded table (blue helps, orange hurts). */
function liftHeatmap(baseline: PolicySummary, policies: PolicySummary[], classNames: string[]): string {
  const lifts = policies.map((p) =>
    classNames.map((_, k) => {
      const a = finite(p.perClass?.[k]);
      const b = finite(baseline.perClass?.[k]);
      return a === undefined || b === undefined ? undefined : a - b;
    }),
  );
  const maxAbs = Math.max(1e-9, ...lifts.flat().map((v) => Math.abs(v ?? 0)));
  const cell = (v: number | undefined) => {
    if (v === undefined) return `<td class="num heat">${MISSING}</td>`;
    const s = Math.min(1, Math.abs(v) / maxAbs);
    const [r, g, b] = v >= 0 ? [59, 125, 216] : [232, 131, 58];
    const mix = (c: number) => Math.round(255 + (c - 255) * s * 0.85);
    return `<td class="num heat" style="background:rgb(${mix(r)},${mix(g)},${mix(b)})">${escapeHtml(pp(v, 1).replace(' pp', ''))}</td>`;
  };
  const head = `<thead><tr><th scope="col">policy</th>${classNames.map((c) => `<th scope="col" class="num">${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
  const body = policies
    .map((p, i) => `<tr><th scope="row">${escapeHtml(p.name)}</th>${lifts[i]!.map(cell).join('')}</tr>`)
    .join('');
  return `<div class="table-wrap"><table class="heatmap" data-table="class-lift">${head}<tbody>${body}</tbody></table></div>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

/** The charts and tables of policies evaluated on the test set against a baseline. */
function testResults(
  prefix: string,
  baseline: PolicySummary,
  policies: PolicySummary[],
  best: PolicySummary | undefined,
  repeats: number,
  classNames: string[],
): string {
  const kind = errorBarKind(repeats, policies);
  const errorNote =
    kind === 'std'
      ? `Error bars: ± one standard deviation over ${repeats} models trained with different seeds.`
      : kind === 'lift-ci'
        ? `${repeats > 1 ? 'No spread over repeats is available' : 'One model (repeats = 1), so there is no spread over repeats'}: the error bars show the 95% paired bootstrap interval of each policy's lift over the baseline, placed around its accuracy.`
        : 'No error bars: one model (repeats = 1) and no confidence interval of the lift in the results.';
  let out = summaryTable(baseline, policies, best?.name, repeats);
  out += `<p class="note">Lift is the policy's accuracy minus the baseline's (percentage points) with its 95% paired bootstrap interval; McNemar's exact test compares the images each gets right. NLL, ECE and Brier use each image's merged scores normalised to sum 1.</p>`;
  out += figure(
    accuracyChart(`${prefix}-accuracy`, baseline, policies, repeats, best?.name),
    `${errorNote} The dashed line is the baseline (no TTA).`,
  );
  if (best) {
    out += figure(
      classLiftChart(`${prefix}-class-lift`, baseline, best, classNames),
      `Where ${escapeHtml(best.name)} gains and loses accuracy, class by class.`,
    );
    if (policies.length > 1)
      out += `<h3>Per-class lift of every policy (pp)</h3>${liftHeatmap(baseline, policies, classNames)}`;
  }
  const flipRows: FlipRow[] = policies.map((p) => ({
    label: p.name,
    correctToWrong: p.flips?.correctToWrong,
    wrongToCorrect: p.flips?.wrongToCorrect,
    highlight: p.name === best?.name,
  }));
  out += figure(
    flipsChart(`${prefix}-flips`, 'flips', 'Predictions changed by TTA, per policy', flipRows),
    'Each policy against the baseline on the same images: blue bars are mistakes TTA fixed, orange bars are correct predictions it broke; the net change is at the right.',
  );
  if (best?.flips?.perClass?.length) {
    const classRows: FlipRow[] = best.flips.perClass.map((f, k) => ({
      label: classNames[k] ?? `class ${k}`,
      correctToWrong: f?.correctToWrong,
      wrongToCorrect: f?.wrongToCorrect,
    }));
    out += figure(
      flipsChart(
        `${prefix}-class-flips`,
        'class-flips',
        `Predictions changed by ${best.name}, per class (true class)`,
        classRows,
      ),
      `The same counts for ${escapeHtml(best.name)}, split by each image's true class.`,
    );
  }
  const panels = [{ label: 'baseline', summary: baseline }, ...(best ? [{ label: 'best', summary: best }] : [])];
  out += figure(
    reliabilityChart(`${prefix}-reliability`, panels),
    "Bars: accuracy of the images whose top score falls in each bin (more opaque = more images); the line joins each bin's mean confidence and accuracy; bars below the diagonal are over-confident. The histogram underneath counts the images per bin.",
  );
  return out;
}

function card(label: string, value: string, sub = ''): string {
  const long = value.length > 18 ? ' long' : '';
  return `<div class="card"><div class="card-label">${escapeHtml(label)}</div><div class="card-value${long}">${value}</div>${sub ? `<div class="card-sub">${sub}</div>` : ''}</div>`;
}

function evalSection(ev: EvalReport, classNames: string[]): string {
  const repeats = finite(ev.repeats) ?? Math.max(1, ev.baseline.accuracy.runs?.length ?? 1);
  const best = bestPolicy(ev.policies);
  let out = '<section id="eval"><h2>Evaluation on the test set</h2>';
  const lift = best?.lift;
  out += '<div class="cards">';
  out += card(
    'baseline accuracy (no TTA)',
    escapeHtml(pct(ev.baseline.accuracy.mean)),
    repeats > 1 ? `± ${escapeHtml(pct(ev.baseline.accuracy.std))} over ${repeats} models` : 'one model',
  );
  if (best) {
    out += card(
      'best policy',
      escapeHtml(best.name),
      `${escapeHtml(pct(best.accuracy.mean))} accuracy · ${escapeHtml(passes(best.forwardPasses))} passes per image`,
    );
    out += card(
      'lift of the best policy',
      escapeHtml(pp(lift?.mean)),
      `95% CI [${escapeHtml(pp(lift?.ci95?.[0]))}, ${escapeHtml(pp(lift?.ci95?.[1]))}] · McNemar p ${escapeHtml(pValue(lift?.mcnemarP))}`,
    );
  }
  out += card(
    'test images',
    escapeHtml(integer(ev.data?.test)),
    `${ev.policies.length} ${ev.policies.length === 1 ? 'policy' : 'policies'} · ${escapeHtml(fixed(ev.evaluationSeconds, 1))} s evaluating`,
  );
  out += '</div>';
  if (!ev.policies.length) out += '<p class="note">No policies were evaluated besides the baseline.</p>';
  out += testResults('eval', ev.baseline, ev.policies, best, repeats, classNames);
  return `${out}</section>`;
}

function candidateRows(candidates: TuneCandidate[], chosen: TuneCandidate): { rows: string[][]; highlight: boolean[] } {
  const rows = candidates.map((c) => [
    `${escapeHtml(c.name)}${c === chosen ? ' <span class="tag best">chosen</span>' : ''}${c.viewSpec ? `<div class="spec">${escapeHtml(c.viewSpec)}</div>` : ''}`,
    escapeHtml(passes(c.forwardPasses)),
    escapeHtml(pct(c.accuracy)),
    escapeHtml(fixed(c.nll)),
    escapeHtml(c.merge ?? MISSING),
    escapeHtml(c.fill ?? MISSING),
    escapeHtml(compact(finite(c.identityWeight) ?? NaN, 0.1)),
    c.gate
      ? `${escapeHtml(fixed(c.gate.margin, 3))} <span class="ci">(${escapeHtml(pct(c.gate.gatedFraction, 0))} augmented)</span>`
      : MISSING,
  ]);
  return { rows, highlight: candidates.map((c) => c === chosen) };
}

const CANDIDATE_HEADERS = [
  'policy',
  'passes / image',
  'val accuracy',
  'val NLL',
  'merge',
  'fill',
  'identity weight',
  'gate margin',
];
const CANDIDATE_NUMERIC = [false, true, true, true, false, false, true, true];

function tuneSection(tune: TuneReport, classNames: string[], withTestCharts: boolean): string {
  const chosen = chosenCandidate(tune);
  let out = '<section id="tune"><h2>Tuning on held-out validation data</h2>';
  out += '<div class="cards">';
  out += card(
    'chosen policy',
    escapeHtml(tune.best.name),
    `${escapeHtml(passes(tune.best.forwardPasses))} passes per image${tune.best.viewSpec ? ` · ${escapeHtml(tune.best.viewSpec)}` : ''}`,
  );
  out += card(
    'validation accuracy',
    escapeHtml(pct(tune.best.validation?.accuracy ?? chosen.accuracy)),
    `NLL ${escapeHtml(fixed(tune.best.validation?.nll ?? chosen.nll))} · ${escapeHtml(integer(tune.data?.validation))} images held out of training`,
  );
  const test = tune.best.test;
  const testBase = tune.best.baseline;
  if (test)
    out += card(
      'test accuracy (once)',
      escapeHtml(pct(test.accuracy.mean)),
      `${escapeHtml(pct(testBase?.accuracy.mean))} without TTA · lift ${escapeHtml(pp(test.lift?.mean))}`,
    );
  out += card(
    'candidates',
    escapeHtml(integer(tune.candidates.length)),
    tune.policyFile ? `policy saved to <code>${escapeHtml(tune.policyFile)}</code>` : '',
  );
  out += '</div>';
  out += figure(
    frontierChart('tune-frontier', tune),
    'Every candidate policy by its cost (forward passes per image; gated policies augment only low-margin images) and its validation accuracy. The line is the Pareto frontier: the best accuracy available at each cost. The chosen policy (ties go to the cheaper) is ringed.',
  );

  // Cost/accuracy table: the best candidate at each cost level, as the CLI prints it.
  const byCost = new Map<number, TuneCandidate>();
  for (const c of tune.candidates) {
    const cost = finite(c.forwardPasses);
    const acc = finite(c.accuracy);
    if (cost === undefined || acc === undefined) continue;
    const key = Math.round(cost * 10) / 10;
    const current = byCost.get(key);
    if (
      !current ||
      acc > (current.accuracy as number) ||
      (acc === current.accuracy && (finite(c.nll) ?? Infinity) < (finite(current.nll) ?? Infinity))
    )
      byCost.set(key, c);
  }
  const perCost = [...byCost.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  const frontier = new Set(paretoFrontier(tune.candidates));
  const costTable = candidateRows(perCost, chosen);
  out += `<h3>Cost and accuracy: the best candidate at each cost</h3>`;
  out += table(
    CANDIDATE_HEADERS.concat('Pareto'),
    costTable.rows.map((r, i) => r.concat(frontier.has(perCost[i]!) ? '●' : '')),
    { numeric: CANDIDATE_NUMERIC.concat(false), highlight: costTable.highlight, className: 'candidates' },
  );

  if (tune.greedy?.length) {
    out += figure(
      greedyChart('tune-greedy', tune.greedy),
      'Greedy forward selection: starting from the plain image, each step adds the view that most improves the validation log-likelihood.',
    );
    out += table(
      ['views', 'view set', 'val accuracy', 'val NLL'],
      tune.greedy.map((s) => [
        escapeHtml(integer(s.size)),
        `<span class="spec">${escapeHtml(s.viewSpec ?? MISSING)}</span>`,
        escapeHtml(pct(s.accuracy)),
        escapeHtml(fixed(s.nll)),
      ]),
      { numeric: [true, false, true, true], className: 'greedy' },
    );
  }
  out += '<h3>Leave-one-out: what each view of the chosen policy adds</h3>';
  if (tune.leaveOneOut?.length) {
    out += table(
      ['view left out', 'accuracy drop', 'NLL increase'],
      tune.leaveOneOut.map((l) => {
        const drop = finite(l.accuracyDrop);
        return [
          escapeHtml(l.view),
          `<span class="${drop === undefined ? '' : drop > 0 ? 'good' : drop < 0 ? 'bad' : ''}">${escapeHtml(pp(drop))}</span>`,
          escapeHtml(fixed(l.nllIncrease)),
        ];
      }),
      { numeric: [false, true, true], className: 'loo' },
    );
    out +=
      '<p class="note">A positive drop means the policy is worse without that view (the view helps); a negative drop means leaving it out would help.</p>';
  } else {
    out += `<p class="note">${MISSING} (the chosen policy has a single view, or no leave-one-out results were recorded)</p>`;
  }
  const dis = tune.disagreement;
  if (dis) {
    out += '<h3>Disagreement between views as an uncertainty score</h3>';
    out += `<p>Mean disagreement ${escapeHtml(fixed(dis.mean, 3))} (share of the chosen policy's views whose own top class differs from the merged prediction); as a detector of the merged prediction's errors its AUROC is ${escapeHtml(fixed(dis.errorAuroc, 3))} (0.5 = no better than chance).</p>`;
    const byLevel = dis.byLevel ?? dis.byQuantile ?? [];
    if (byLevel.length) {
      const quantiles = !dis.byLevel && !!dis.byQuantile;
      out += table(
        [quantiles ? 'disagreement up to quantile' : 'disagreement', 'images', 'accuracy'],
        byLevel.map((row) => [
          escapeHtml(fixed(quantiles ? row.upTo : row.level, 3)),
          escapeHtml(integer(row.count)),
          escapeHtml(pct(row.accuracy)),
        ]),
        { numeric: [true, true, true], className: 'disagreement' },
      );
    }
  }
  if (test && testBase) {
    out += '<h3>The chosen policy on the test set (evaluated once)</h3>';
    out += withTestCharts
      ? testResults('tune', testBase, [test], test, 1, classNames)
      : summaryTable(testBase, [test], test.name, 1);
  }
  out += calibrationResults(tune, classNames);
  const sorted = [...tune.candidates].sort(
    (a, b) =>
      (finite(b.accuracy) ?? -Infinity) - (finite(a.accuracy) ?? -Infinity) ||
      (finite(a.forwardPasses) ?? Infinity) - (finite(b.forwardPasses) ?? Infinity),
  );
  const all = candidateRows(sorted, chosen);
  out += `<details><summary>All ${tune.candidates.length} candidates, by validation accuracy</summary>${table(CANDIDATE_HEADERS, all.rows, { numeric: CANDIDATE_NUMERIC, highlight: all.highlight, className: 'candidates' })}</details>`;
  return `${out}</section>`;
}

/** Temperature scaling and learned merges: test NLL/ECE before and after, pairings, the learned weights. */
function calibrationResults(tune: TuneReport, classNames: string[]): string {
  let out = '';
  if (tune.tested?.length) {
    out += '<h3>Temperature scaling and learned merges on the test set (evaluated once)</h3>';
    out += table(
      ['policy', 'role', 'temperature', 'accuracy', 'NLL', 'NLL (T)', 'ECE', 'ECE (T)'],
      tune.tested.map((t) => [
        escapeHtml(t.name),
        escapeHtml(t.role),
        escapeHtml(fixed(t.temperature, 3)),
        escapeHtml(pct(t.test?.accuracy)),
        escapeHtml(fixed(t.test?.nll)),
        escapeHtml(fixed(t.calibrated?.nll)),
        escapeHtml(pct(t.test?.ece)),
        escapeHtml(pct(t.calibrated?.ece)),
      ]),
      { numeric: [false, false, true, true, true, true, true, true], className: 'calibration' },
    );
    out +=
      '<p class="note">Each temperature T was fitted on the validation NLL of that policy (one for the plain model, one per policy), then applied once to its test probabilities: NLL (T) and ECE (T). It never changes a prediction, so accuracy is the same before and after.</p>';
  }
  for (const p of tune.paired ?? []) {
    out += `<p class="paired">${escapeHtml(p.policy)} against ${escapeHtml(p.against)}: ${escapeHtml(pp(p.accuracyDifference))} accuracy (${escapeHtml(integer(p.policyOnly))} test images right only with the first, ${escapeHtml(integer(p.againstOnly))} only with the second), McNemar p ${escapeHtml(pValue(p.mcnemarP))}; NLL after temperature ${escapeHtml(fixed(p.calibratedNllDifference))}.</p>`;
  }
  // The weights of every learned merge tuning tried (a few: each shape for a couple of view sets).
  const learned = tune.candidates.filter((c) => c.learned && Array.isArray(c.learned.weights));
  learned.forEach((c, i) => {
    out += figure(
      learnedWeightsChart(`tune-learned-${i}`, c, classNames),
      `Weights fitted on validation NLL (validation accuracy ${escapeHtml(pct(c.accuracy))} and NLL ${escapeHtml(fixed(c.nll))}, scored out of fold${c.meanOfSameViews ? `; the mean merge of the same views is ${escapeHtml(c.meanOfSameViews)}` : ''}).`,
    );
  });
  return out;
}

function configValue(value: unknown): string {
  if (value === undefined || value === null) return MISSING;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : MISSING;
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v)))
    return value.map((v) => configValue(v)).join(', ') || '[]';
  try {
    return (
      JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) ?? MISSING
    );
  } catch {
    return String(value);
  }
}

function keyValueTable(entries: [string, unknown][], className: string): string {
  return table(
    ['setting', 'value'],
    entries.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(configValue(v))}</code>`]),
    { className },
  );
}

function runEntries(
  source: { backend?: string; data?: DataDescription; model?: Record<string, unknown> } | undefined,
): [string, unknown][] {
  if (!source) return [];
  const out: [string, unknown][] = [];
  if (source.backend !== undefined) out.push(['backend', source.backend]);
  for (const [k, v] of Object.entries(source.data ?? {})) out.push([`data.${k}`, v]);
  for (const [k, v] of Object.entries(source.model ?? {})) {
    if (k === 'runs' && Array.isArray(v))
      out.push([
        'model.runs',
        v
          .map((r) => (isPlainObject(r) ? `${String(r.source ?? MISSING)}${r.dir ? ` (${String(r.dir)})` : ''}` : r))
          .join('; '),
      ]);
    else out.push([`model.${k}`, v]);
  }
  return out;
}

export function renderReport(input: ReportInput): string {
  checkInput(input);
  const { meta } = input;
  const summaries = [
    ...(input.eval ? [input.eval.baseline, ...input.eval.policies] : []),
    ...(input.tune?.best.test ? [input.tune.best.test] : []),
    ...(input.tune?.best.baseline ? [input.tune.best.baseline] : []),
  ];
  const data = input.eval?.data ?? input.tune?.data;
  const classNames = classNamesFor(input, summaries, data);
  const kinds = [input.eval ? 'eval' : '', input.tune ? 'tune' : ''].filter(Boolean).join(' + ');
  const subtitle = [
    data?.name,
    (input.eval?.model ?? input.tune?.model)?.architecture,
    (input.eval?.backend ?? input.tune?.backend) && `backend ${input.eval?.backend ?? input.tune?.backend}`,
  ]
    .filter((s): s is string => typeof s === 'string' && s !== '')
    .map(escapeHtml)
    .join(' · ');
  const nav = [
    input.eval ? '<a href="#eval">Evaluation</a>' : '',
    input.tune ? '<a href="#tune">Tuning</a>' : '',
    input.gallery ? '<a href="#gallery">What TTA changed</a>' : '',
    '<a href="#config">Configuration</a>',
    '<a href="#versions">Versions</a>',
  ]
    .filter(Boolean)
    .join('');
  let body = `<header><div class="eyebrow">tta ${escapeHtml(kinds)} report</div><h1>Test-time augmentation report</h1>`;
  body += `<p class="subtitle">${subtitle}${subtitle ? ' · ' : ''}generated ${escapeHtml(meta.generatedAt)}</p>`;
  body += `<pre class="command"><code>${escapeHtml(meta.command)}</code></pre><nav>${nav}</nav></header>`;
  if (input.eval) body += evalSection(input.eval, classNames);
  if (input.tune) body += tuneSection(input.tune, classNames, true);
  if (input.gallery) body += gallerySection(input.gallery, classNames);
  body += '<section id="config"><h2>Configuration</h2>';
  const config = Object.entries(meta.config ?? {}).filter(([, v]) => v !== undefined);
  body += config.length
    ? keyValueTable(config, 'config')
    : `<p class="note">${MISSING} (no configuration recorded)</p>`;
  const run = [...runEntries(input.eval), ...runEntries(input.tune)];
  if (run.length) body += `<h3>Data and model</h3>${keyValueTable(run, 'run')}`;
  body += '</section><section id="versions"><h2>Versions</h2>';
  const versions = Object.entries(meta.versions);
  body += versions.length
    ? table(
        ['component', 'version'],
        versions.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(String(v))}</code>`]),
        { className: 'versions' },
      )
    : `<p class="note">${MISSING}</p>`;
  body +=
    '</section><footer>Written by @tta/report: a single HTML file with inline SVG charts, no scripts and no network access.</footer>';
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>TTA ${escapeHtml(kinds)} report · ${escapeHtml(meta.generatedAt)}</title><style>${CSS}</style></head>` +
    `<body><main>${body}</main></body></html>\n`
  );
}

const CSS = `
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#e3e7ec;--soft:#f6f8fa;--blue:#3b7dd8;--orange:#e8833a;--violet:#7c3aed;--slate:#56657a;--grey:#9aa5b1;--teal:#14a39a}
*{box-sizing:border-box}
html{background:#fff;color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
body{margin:0}
main{max-width:1100px;margin:0 auto;padding:32px 30px 48px}
header{border-bottom:1px solid var(--line);padding-bottom:18px;margin-bottom:8px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;font-weight:600;color:var(--violet)}
h1{font-size:30px;line-height:1.2;margin:4px 0 6px;font-weight:700;letter-spacing:-.01em}
h2{font-size:22px;margin:40px 0 14px;padding-top:8px;border-top:3px solid var(--ink);display:inline-block}
h3{font-size:16px;margin:28px 0 10px}
.subtitle{margin:0 0 12px;color:var(--muted)}
pre.command{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:0 0 12px;white-space:pre-wrap;word-break:break-all;font-size:13px}
code{font:13px/1.4 ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace}
nav a{color:var(--blue);text-decoration:none;margin-right:18px;font-weight:600;font-size:14px}
section{margin-bottom:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;margin:6px 0 22px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:linear-gradient(#fff,var(--soft))}
.card-label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.card-value{font-size:22px;font-weight:700;margin:2px 0;overflow-wrap:anywhere;font-variant-numeric:tabular-nums}
.card-value.long{font-size:17px;line-height:1.3;margin:4px 0}
.card-sub{font-size:13px;color:var(--muted)}
.table-wrap{overflow-x:auto;margin:8px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13.5px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--ink);white-space:nowrap}
tbody th{font-weight:600}
.num{text-align:right}
tr.highlight{background:#f3edff}
.tag{display:inline-block;font-size:11px;font-weight:600;padding:0 6px;border-radius:9px;background:var(--line);color:var(--muted);vertical-align:1px}
.tag.best{background:var(--violet);color:#fff}
.spec{font:12px/1.4 ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;color:var(--muted);font-weight:400;overflow-wrap:anywhere}
.ci{color:var(--muted);white-space:nowrap}
.good{color:#1d5fb8;font-weight:600}.bad{color:#c2571a;font-weight:600}
table.heatmap td{text-align:center;min-width:56px}
table.config td,table.run td,table.versions td{overflow-wrap:anywhere}
table.config tbody th,table.run tbody th,table.versions tbody th{width:32%}
td.num,td .ci{white-space:nowrap}
.note{color:var(--muted);font-size:13.5px;margin:6px 0 14px}
figure{margin:22px 0;padding:16px 16px 10px;border:1px solid var(--line);border-radius:8px}
figcaption{color:var(--muted);font-size:13.5px;margin-top:6px}
details{margin:22px 0}
summary{cursor:pointer;font-weight:600}
footer{margin-top:40px;padding-top:14px;border-top:1px solid var(--line);color:var(--muted);font-size:13px}
svg.chart{display:block;max-width:100%;height:auto;font:12px system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;fill:var(--ink)}
svg .chart-title{font-size:15px;font-weight:700}
svg .panel-title{font-size:13px;font-weight:600}
svg .axis line,svg .axis-thin{stroke:#8795a1;stroke-width:1}
svg .axis line.grid{stroke:#edf0f3}
svg .tick{fill:var(--muted);font-size:11px}
svg .axis-label{fill:var(--muted);font-size:12px}
svg .label{fill:var(--ink)}
svg .label.strong{font-weight:700}
svg .value{fill:var(--muted);font-size:11.5px;font-variant-numeric:tabular-nums}
svg .value.net{fill:var(--ink);font-weight:600}
svg .band{fill:#f7f9fb}
svg .legend text{fill:var(--muted);font-size:12px}
svg .dot-baseline{fill:var(--grey)}
svg .dot-policy{fill:var(--slate)}
svg .dot-best{fill:var(--violet)}
svg .dot-candidate{fill:#8fa3bf;fill-opacity:.75}
svg .dot-gated{fill:var(--teal);fill-opacity:.8}
svg .dot-frontier{fill:none;stroke:var(--ink);stroke-width:1.5}
svg .ring-best{fill:none;stroke:var(--violet);stroke-width:2}
svg .whisker{stroke:var(--ink);stroke-width:1.5}
svg line.whisker{stroke:var(--ink)}
svg .baseline-line{stroke:var(--grey);stroke-width:1.5;stroke-dasharray:5 4}
svg .zero-line{stroke:var(--ink);stroke-width:1}
svg .bar-gain{fill:var(--blue)}
svg .bar-loss{fill:var(--orange)}
svg .bar-rel{fill:var(--blue)}
svg .bar-hist{fill:var(--grey)}
svg .diagonal{stroke:var(--grey);stroke-width:1.5;stroke-dasharray:5 4}
svg line.diagonal{stroke:var(--grey)}
svg .rel-line{fill:none;stroke:var(--ink);stroke-width:1.5}
svg line.rel-line{stroke:var(--ink)}
svg .rel-dot{fill:var(--ink)}
svg .frontier{fill:none;stroke:var(--ink);stroke-width:2}
svg line.frontier{stroke:var(--ink)}
svg .greedy-line{fill:none;stroke:var(--slate);stroke-width:2}
svg .added{fill:var(--muted);font-size:10.5px}
.gallery{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 20px}
.gallery .tile{margin:0;width:128px;font-size:12px;line-height:1.35}
.gallery img{display:block;image-rendering:pixelated;border:3px solid var(--line);border-radius:3px}
.gallery .fixed img{border-color:var(--blue)}
.gallery .broke img{border-color:var(--orange)}
.gallery figcaption span{display:block}
.gallery .truth{font-weight:600}
.gallery .index{color:var(--muted)}
.gallery .good{color:#1d6b3a}
.gallery .bad{color:#a3461a}
@media print{figure{break-inside:avoid}}
`;
