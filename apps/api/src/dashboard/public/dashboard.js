// The operator's dashboard: signs in with an admin key (kept in sessionStorage) and redraws every
// few seconds from the admin API alone.

import { dailyChart } from './charts.js';
import { clock, setText } from './dom.js';
import * as panels from './panels.js';

const KEY_STORAGE = 'token-budget.admin-key';
const REFRESH_MS = 5_000;
const ALERTS_SHOWN = 50;

const $ = (id) => document.getElementById(id);

/** A 401 or 403: the key is not (or no longer) an admin key. */
class SignInError extends Error {}

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  paused: false,
  timer: 0,
  daily: null,
  failing: false,
  // Each refresh's number: an answer older than the newest refresh is dropped, never drawn over it.
  latest: 0,
};

/** Tells screen readers what changed (the status line itself changes every few seconds). */
const announce = (text) => setText('announce', text);

async function api(path) {
  const response = await fetch(path, {
    headers: { authorization: `Bearer ${state.key}`, accept: 'application/json' },
    cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    throw new SignInError('This key is unknown or revoked.');
  }
  if (response.status === 403) {
    throw new SignInError('This is a caller key: the dashboard needs an admin key.');
  }
  if (!response.ok) {
    throw new Error(body.message ?? `${path} answered ${response.status}.`);
  }
  return body;
}

const spend = (groupBy, from, to) =>
  api(`/v1/admin/spend?group_by=${groupBy}&limit=100${from ? `&from=${from}&to=${to}` : ''}`);

/** Everything the page shows, read in two rounds: "today" is the service's UTC day. */
async function load() {
  const period = $('top-period').value;
  const [monthByTier, monthByModel, monthByDay, top, overview, alertList] = await Promise.all([
    spend('tier'),
    spend('model'),
    spend('day'),
    api(`/v1/admin/top-subjects?period=${period}&limit=10`),
    api('/v1/admin/overview'),
    api(`/v1/admin/alerts?limit=${ALERTS_SHOWN}`).then((body) => body.alerts),
  ]);
  const today = monthByTier.to;
  const [todayByTier, todayByModel] = await Promise.all([
    spend('tier', today, today),
    spend('model', today, today),
  ]);
  return {
    monthByTier,
    monthByModel,
    monthByDay,
    todayByTier,
    todayByModel,
    top,
    overview,
    alertList,
  };
}

function render(data) {
  panels.summary({
    today: data.todayByTier,
    month: data.monthByTier,
    overview: data.overview,
    alerts: data.alertList,
    alertsCapped: data.alertList.length >= ALERTS_SHOWN,
  });
  state.daily = data.monthByDay;
  dailyChart($('daily-chart'), data.monthByDay);
  panels.dailyTable(data.monthByDay);
  panels.breakdown('tiers-table', 'tier', data.todayByTier, data.monthByTier);
  panels.breakdown('models-table', 'model', data.todayByModel, data.monthByModel);
  panels.topSubjects(data.top);
  panels.refusals(data.overview);
  panels.modes(data.overview);
  panels.alerts(data.alertList, data.overview.modes.alert_webhook);
}

async function refresh() {
  clearTimeout(state.timer);
  const mine = ++state.latest;
  try {
    const data = await load();
    if (mine !== state.latest) {
      return; // a newer refresh (a changed period, a resume) draws and schedules instead
    }
    render(data);
    if ($('board').getAttribute('aria-busy') === 'true') {
      announce('Dashboard loaded.');
    } else if (state.failing) {
      announce('Updates work again.');
    }
    state.failing = false;
    $('board').setAttribute('aria-busy', 'false');
    setText(
      'status',
      state.paused
        ? `Paused · last update ${clock(new Date())}`
        : `Updated ${clock(new Date())} · every ${REFRESH_MS / 1000} s`,
    );
  } catch (error) {
    if (mine !== state.latest) {
      return;
    }
    if (error instanceof SignInError) {
      signOut(error.message);
      return;
    }
    setText('status', `Update failed at ${clock(new Date())}: ${error.message} Retrying.`);
    if (!state.failing) {
      announce(`Update failed: ${error.message} Retrying every ${REFRESH_MS / 1000} seconds.`);
    }
    state.failing = true;
  }
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if (state.key && !state.paused) {
    state.timer = setTimeout(refresh, REFRESH_MS);
  }
}

function showBoard(signedIn) {
  $('login').hidden = signedIn;
  $('board').hidden = !signedIn;
  $('session-actions').hidden = !signedIn;
}

async function signIn(key) {
  state.key = key;
  try {
    await api('/v1/admin/overview');
  } catch (error) {
    state.key = null;
    $('login-error').textContent = error.message;
    $('admin-key').setAttribute('aria-invalid', 'true');
    $('admin-key').focus();
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $('login-form').reset();
  $('admin-key').removeAttribute('aria-invalid');
  $('login-error').textContent = '';
  showBoard(true);
  $('board').setAttribute('aria-busy', 'true');
  setText('status', 'Loading…');
  $('kpis-title').focus();
  await refresh();
}

function signOut(message = '') {
  clearTimeout(state.timer);
  state.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  showBoard(false);
  setText('status', 'Not signed in');
  announce(message || 'Signed out.');
  $('login-error').textContent = message;
  $('admin-key').focus();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('admin-key').value.trim();
  if (!key) {
    $('login-error').textContent = 'Enter an admin API key.';
    $('admin-key').setAttribute('aria-invalid', 'true');
    return;
  }
  void signIn(key);
});

$('sign-out').addEventListener('click', () => signOut());

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  $('pause').textContent = state.paused ? 'Resume updates' : 'Pause updates';
  if (state.paused) {
    clearTimeout(state.timer);
    setText('status', `Paused at ${clock(new Date())}`);
    announce('Updates paused.');
  } else {
    announce('Updates resumed.');
    void refresh();
  }
});

$('top-period').addEventListener('change', () => void refresh());

// The chart is drawn at its container's width: redraw it when that width changes.
let chartWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width !== chartWidth && state.daily && !$('board').hidden) {
    chartWidth = width;
    dailyChart($('daily-chart'), state.daily);
  }
}).observe($('daily-chart'));

if (state.key) {
  showBoard(true);
  void refresh();
} else {
  showBoard(false);
}
