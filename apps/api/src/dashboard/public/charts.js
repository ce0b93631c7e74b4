// Inline SVG charts: drawn at the width of their container (so their text stays readable on a
// phone), coloured by CSS classes (light and dark themes), with every value also given as text.

import { amount, el, moneyText, shortDay, svg } from './dom.js';

/** A horizontal bar (0–1 of the track), decorative: the value beside it is the text. */
export function bar(fraction, tone = 'accent') {
  const width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return svg(
    'svg',
    { class: 'bar', width: '100%', height: 10, 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { class: 'bar-track', x: 0, y: 0, width: '100%', height: 10, rx: 5 }),
    fraction > 0
      ? svg('rect', { class: `bar-fill bar-${tone}`, x: 0, y: 0, width, height: 10, rx: 5 })
      : null,
  );
}

/**
 * Labelled horizontal bars: [{ key, label, value, text }] → a list; each row names its value in
 * text, the bar only shows its size against the largest.
 */
export function barList(items, { label, tone } = {}) {
  const largest = Math.max(0, ...items.map((item) => item.value));
  return el(
    'ul',
    { class: 'bar-list', 'aria-label': label },
    items.map((item) =>
      el(
        'li',
        { class: 'bar-row', 'data-key': item.key, 'data-value': item.value },
        el('span', { class: 'bar-label' }, item.label),
        bar(largest > 0 ? item.value / largest : 0, item.value > 0 ? tone : 'accent'),
        el('span', { class: 'bar-value num' }, item.text ?? String(item.value)),
      ),
    ),
  );
}

/** Every day of the month of `to`, from its 1st to its last, with the spend of each. */
function monthDays(to, rows) {
  const spend = new Map(rows.map((row) => [row.key, row.cost_usd]));
  const first = new Date(`${to.slice(0, 7)}-01T00:00:00Z`);
  const days = [];
  for (let d = new Date(first); d.getUTCMonth() === first.getUTCMonth();) {
    const day = d.toISOString().slice(0, 10);
    days.push({ day, cost_usd: spend.get(day) ?? '0.000000', future: day > to });
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return days;
}

/** A round axis maximum at or above the largest value: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) {
    return 1;
  }
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((nice) => nice >= value);
}

function axisMoney(value) {
  return value >= 100 ? `$${Math.round(value).toLocaleString('en-US')}` : `$${+value.toFixed(2)}`;
}

/** Columns of spend per UTC day of this month; today's column is highlighted. */
export function dailyChart(figure, report) {
  const days = monthDays(report.to, report.rows);
  const width = Math.max(280, figure.clientWidth || 640);
  const narrow = width < 520;
  const height = narrow ? 180 : 220;
  const left = 56;
  const bottom = 24;
  const top = 10;
  const plotWidth = width - left - 8;
  const plotHeight = height - top - bottom;
  const max = niceMax(Math.max(...days.map((d) => amount(d.cost_usd))));
  const slot = plotWidth / days.length;
  const barWidth = Math.max(2, slot * 0.68);
  const y = (value) => top + plotHeight - (value / max) * plotHeight;
  const busiest = days.reduce((a, b) => (amount(b.cost_usd) > amount(a.cost_usd) ? b : a));
  const summary =
    amount(busiest.cost_usd) > 0
      ? `Spend per day from ${shortDay(days[0].day)} to ${shortDay(report.to)}; ` +
        `highest ${moneyText(busiest.cost_usd)} on ${shortDay(busiest.day)}; ` +
        `today ${moneyText(days.find((d) => d.day === report.to).cost_usd)}.`
      : 'No spend yet this month.';

  const grid = [0, max / 2, max].map((value) =>
    svg(
      'g',
      { class: 'grid' },
      svg('line', { x1: left, x2: width - 8, y1: y(value), y2: y(value) }),
      svg('text', { x: left - 6, y: y(value) + 4, 'text-anchor': 'end' }, axisMoney(value)),
    ),
  );
  const every = narrow ? 7 : days.length > 20 ? 3 : 1;
  const todayIndex = days.findIndex((d) => d.day === report.to);
  const columns = days.map((d, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    const value = amount(d.cost_usd);
    const barHeight = value > 0 ? Math.max(1.5, (value / max) * plotHeight) : 0;
    // Every `every`-th day, and today's; a regular label too close to today's gives way.
    const label = d.day === report.to || (i % every === 0 && Math.abs(i - todayIndex) * slot >= 20);
    return svg(
      'g',
      {
        class: `day${d.day === report.to ? ' today' : ''}${d.future ? ' future' : ''}`,
        'data-day': d.day,
        'data-usd': d.cost_usd,
      },
      svg(
        'rect',
        { class: 'column', x, y: top + plotHeight - barHeight, width: barWidth, height: barHeight },
        svg('title', {}, `${shortDay(d.day)}: ${moneyText(d.cost_usd)}`),
      ),
      label
        ? svg(
            'text',
            { x: x + barWidth / 2, y: height - 6, 'text-anchor': 'middle' },
            d.day.slice(8).replace(/^0/, ''),
          )
        : null,
    );
  });
  figure.replaceChildren(
    svg(
      'svg',
      { class: 'daily', width, height, role: 'img', 'aria-label': summary },
      grid,
      columns,
    ),
    el('figcaption', { class: 'muted small' }, summary),
  );
}
