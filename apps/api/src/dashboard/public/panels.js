// The dashboard's panels, each drawn from admin API answers.

import { bar, barList } from './charts.js';
import {
  amount,
  count,
  el,
  empty,
  fill,
  money,
  moneyText,
  setText,
  shortDay,
  table,
  timestamp,
} from './dom.js';

/**
 * A cell of a table that becomes one card per row on a phone: its heading shows beside it there
 * (data-label), and its content stays one block.
 */
function labelled(heading, content, numeric = false) {
  return el(
    'td',
    { 'data-label': heading, class: numeric ? 'num' : undefined },
    el('span', {}, content),
  );
}

/** A region that scrolls sideways (and can be scrolled by keyboard) when a table is too wide. */
function scrollable(label, content) {
  return el(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': label, tabindex: 0 },
    content,
  );
}

const DIMENSIONS = {
  requests: 'Requests per minute',
  tokens: 'Tokens per minute',
  concurrent: 'Concurrent',
  daily_cost: 'Daily budget',
  monthly_cost: 'Monthly budget',
  model_requests: 'Model requests per minute',
  model_tokens: 'Model tokens per minute',
};

const MODES = {
  store: 'Store',
  decisions: 'Deciding with',
  database: 'Database',
  redis_failure_mode: 'On a Redis failure',
  expired_reservation_policy: 'Unsettled reservations',
  default_tier: 'Default tier',
  alert_webhook: 'Alert webhook',
};

/** An alert not delivered yet never will be while the service has no webhook to send it to. */
const UNSENT = 'Not sent: no webhook set';

export function summary({ today, month, overview, alerts, alertsCapped }) {
  fill('kpi-today', money(today.total.cost_usd));
  setText('kpi-today-date', `(${shortDay(today.to)})`);
  setText('kpi-today-note', `${count(today.total.requests)} charged requests`);
  fill('kpi-month', money(month.total.cost_usd));
  setText('kpi-month-date', `(${month.to.slice(0, 7)})`);
  setText('kpi-month-note', `${count(month.total.requests)} charged requests`);
  const refusals = overview.refusals_last_hour;
  setText('kpi-refusals', count(refusals.total));
  setText('kpi-refusals-note', `since ${timestamp(refusals.since)}, ${refusals.scope}`);
  const webhook = overview.modes.alert_webhook;
  const undelivered = alerts.filter((alert) => alert.delivery !== 'delivered').length;
  setText('kpi-alerts', `${count(alerts.length)}${alertsCapped ? '+' : ''}`);
  setText(
    'kpi-alerts-note',
    undelivered === 0
      ? ''
      : webhook === 'none'
        ? UNSENT
        : `${count(undelivered)} not delivered yet`,
  );
}

/** Spend by tier or by model: one row per key, today and this month, and its share. */
export function breakdown(id, noun, today, month) {
  const todayBy = new Map(today.rows.map((row) => [row.key, row.cost_usd]));
  const monthTotal = amount(month.total.cost_usd);
  if (month.rows.length === 0) {
    fill(id, empty(`No spend this month yet.`));
    return;
  }
  const rows = month.rows.map((row) => {
    const share = monthTotal > 0 ? amount(row.cost_usd) / monthTotal : 0;
    return el(
      'tr',
      { 'data-key': row.key ?? '' },
      el('th', { scope: 'row' }, row.key ?? '(unknown)'),
      el('td', { class: 'num' }, money(todayBy.get(row.key) ?? '0.000000')),
      el('td', { class: 'num' }, money(row.cost_usd)),
      el(
        'td',
        {},
        el(
          'span',
          { class: 'share' },
          bar(share),
          el('span', { class: 'num' }, `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`),
        ),
      ),
    );
  });
  fill(
    id,
    scrollable(
      `Spend by ${noun}`,
      table({
        caption: `Spend by ${noun}, today and this month`,
        className: 'compact',
        head: [
          noun[0].toUpperCase() + noun.slice(1),
          { text: 'Today', numeric: true },
          { text: 'This month', numeric: true },
          '% of month',
        ],
        rows,
        foot: el(
          'tr',
          {},
          el('th', { scope: 'row' }, 'Total'),
          el('td', { class: 'num' }, money(today.total.cost_usd)),
          el('td', { class: 'num' }, money(month.total.cost_usd)),
          el('td'),
        ),
      }),
    ),
  );
}

export function dailyTable(report) {
  if (report.rows.length === 0) {
    fill('daily-table', empty('No spend this month yet.'));
    return;
  }
  const rows = [...report.rows]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((row) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, row.key),
        el('td', { class: 'num' }, money(row.cost_usd)),
        el('td', { class: 'num' }, count(row.requests)),
      ),
    );
  fill(
    'daily-table',
    table({
      caption: 'Spend per UTC day this month',
      head: ['Day', { text: 'Spend', numeric: true }, { text: 'Charged requests', numeric: true }],
      rows,
    }),
  );
}

/** "$1.20 left of $5.00" with a bar of what is used. */
function budgetCell(view) {
  if (!view) {
    return el('span', { class: 'muted' }, 'unlimited');
  }
  const limit = amount(view.limit_usd);
  const used = limit > 0 ? 1 - amount(view.remaining_usd) / limit : 0;
  return el(
    'span',
    { class: 'budget' },
    bar(used, used >= 0.9 ? 'danger' : used >= 0.7 ? 'warn' : 'accent'),
    el('span', {}, money(view.remaining_usd), ' left of ', moneyText(view.limit_usd)),
  );
}

function concurrentCell(subject) {
  const limit = subject.limits?.concurrent;
  const held = subject.in_flight?.reservations ?? 0;
  return limit ? `${count(held)} of ${count(limit.limit)}` : `${count(held)} (no limit)`;
}

export function topSubjects(report) {
  const label = report.period === 'day' ? 'Spend today' : 'Spend this month';
  if (report.subjects.length === 0) {
    fill('top-table', empty(`No spend ${report.period === 'day' ? 'today' : 'this month'} yet.`));
    return;
  }
  const rows = report.subjects.map((s) =>
    el(
      'tr',
      { 'data-subject': s.subject },
      el('th', { scope: 'row', class: 'subject' }, s.subject),
      labelled('Tier', s.tier),
      labelled(label, money(s.cost_usd), true),
      labelled('Requests', count(s.requests), true),
      labelled('Daily budget', budgetCell(s.limits?.daily_cost)),
      labelled('Monthly budget', budgetCell(s.limits?.monthly_cost)),
      labelled('In flight', concurrentCell(s)),
      labelled('Reserved in flight', s.in_flight ? money(s.in_flight.cost_usd) : '–', true),
    ),
  );
  fill(
    'top-table',
    table({
      caption: `Top subjects by ${label.toLowerCase()}, with their limits and reservations in flight`,
      className: 'stack',
      head: [
        'Subject',
        'Tier',
        { text: label, numeric: true },
        { text: 'Requests', numeric: true },
        'Daily budget',
        'Monthly budget',
        'In flight',
        { text: 'Reserved in flight', numeric: true },
      ],
      rows,
    }),
  );
}

export function refusals(overview) {
  const { by_dimension: byDimension, since, scope } = overview.refusals_last_hour;
  const items = Object.entries(DIMENSIONS).map(([key, label]) => ({
    key,
    label,
    value: byDimension[key] ?? 0,
    text: count(byDimension[key] ?? 0),
  }));
  fill('refusals-chart', barList(items, { label: 'Refused checks per dimension', tone: 'danger' }));
  setText('refusals-note', `Counted by ${scope} since ${timestamp(since)}.`);
}

export function modes(overview) {
  fill(
    'modes',
    Object.entries(overview.modes).map(([key, value]) =>
      el(
        'div',
        { class: 'mode', 'data-mode': key },
        el('dt', {}, MODES[key] ?? key),
        el('dd', {}, String(value)),
      ),
    ),
  );
}

const DELIVERY = { delivered: 'Delivered', retrying: 'Retrying', pending: 'Pending' };

export function alerts(list, webhook) {
  if (list.length === 0) {
    fill('alerts-table', empty('No budget alert in the last 7 days.'));
    return;
  }
  const rows = list.map((a) =>
    el(
      'tr',
      { 'data-alert': a.id },
      el('th', { scope: 'row', class: 'subject' }, a.subject),
      labelled('Raised', timestamp(a.raised_at)),
      labelled('Window', `${a.window === 'day' ? 'Day' : 'Month'} ${a.period}`),
      labelled('Threshold', `${a.threshold_percent}%`, true),
      labelled(
        'Spent of limit',
        el('span', {}, money(a.spent_usd), ' of ', moneyText(a.limit_usd)),
        true,
      ),
      labelled(
        'Delivery',
        a.delivery !== 'delivered' && webhook === 'none'
          ? el('span', { class: 'badge badge-unsent' }, UNSENT)
          : el(
              'span',
              { class: `badge badge-${a.delivery}` },
              DELIVERY[a.delivery] ?? a.delivery,
              a.attempts > 0 && a.delivery !== 'delivered' ? ` (${a.attempts} tries)` : '',
            ),
      ),
    ),
  );
  fill(
    'alerts-table',
    table({
      caption: 'Budget alerts raised in the last 7 days, newest first',
      className: 'stack',
      head: [
        'Subject',
        'Raised',
        'Window',
        { text: 'Threshold', numeric: true },
        { text: 'Spent of limit', numeric: true },
        'Delivery',
      ],
      rows,
    }),
  );
}
