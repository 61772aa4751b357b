// Entry point: the token form, the notice area and a hash router (#/, #/new, #/runs/<id>, #/fleet,
// #/monitors, #/monitors/<name>, #/targets/<address>, #/alerts, #/silences).
import { ApiRequestError, getToken, setToken } from './api.js';
import { alertsView } from './views/alerts.js';
import { fleetView } from './views/fleet.js';
import { monitorView } from './views/monitor.js';
import { monitorsView } from './views/monitors.js';
import { newRunView } from './views/new-run.js';
import { runView } from './views/run.js';
import { runsView } from './views/runs.js';
import { silencesView } from './views/silences.js';
import { targetView } from './views/target.js';

const main = document.getElementById('main');
const notice = document.getElementById('notice');
let current; // AbortController of the mounted view: aborting it stops its timers and streams

/** Shows an error (or clears with null). ApiRequestErrors get a hint for the usual causes. */
export function showError(err) {
  if (!err) {
    notice.hidden = true;
    notice.textContent = '';
    return;
  }
  if (err.name === 'AbortError') return;
  let text = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiRequestError && err.status === 401)
    text = 'This server needs an API token: enter one with role read (or operate to start runs) at the top.';
  else if (err instanceof ApiRequestError && err.status === 403 && err.kind === 'forbidden')
    text = `Not allowed: ${err.message}`;
  notice.textContent = text;
  notice.hidden = false;
}

function route() {
  current?.abort();
  current = new AbortController();
  showError(null);
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const ctx = { signal: current.signal, showError, params };
  let section = 'runs';
  main.replaceChildren();
  const run = /^\/runs\/([^/]+)$/.exec(path);
  const monitor = /^\/monitors\/([^/]+)$/.exec(path);
  const target = /^\/targets\/([^/]+)$/.exec(path);
  if (run) void runView(main, decodeURIComponent(run[1]), ctx);
  else if (monitor) {
    section = 'monitors';
    monitorView(main, decodeURIComponent(monitor[1]), ctx);
  } else if (target) {
    section = 'fleet';
    targetView(main, decodeURIComponent(target[1]), ctx);
  } else if (path === '/fleet') {
    section = 'fleet';
    fleetView(main, ctx);
  } else if (path === '/monitors') {
    section = 'monitors';
    monitorsView(main, ctx);
  } else if (path === '/alerts') {
    section = 'alerts';
    alertsView(main, ctx);
  } else if (path === '/silences') {
    section = 'alerts';
    silencesView(main, ctx);
  } else if (path === '/new') {
    section = 'new';
    newRunView(main, ctx);
  } else runsView(main, ctx);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function setupToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  const state = document.getElementById('token-state');
  input.value = getToken();
  state.textContent = getToken() ? 'saved' : '';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    state.textContent = input.value.trim() ? 'saved' : 'cleared';
    route(); // reload the view with the new credentials
  });
}

setupToken();
window.addEventListener('hashchange', route);
route();
