// hyphae explorer: a single page with hash routes, reading the explorer's JSON API (/api/…) and
// following its live socket (/ws). Plain JS, no build step. Every value from the chain is put
// into the page as text (never as HTML).
'use strict';

const RAO_PER_TAO = 1e9;
const U16_MAX = 65535;
const RECENT_BLOCKS_SHOWN = 20;
const CHART_SERIES_MAX = 16; // uids drawn per chart; the top earners by latest emission
const REFRESH_MIN_MS = 2000; // at most one data refresh per this long on block messages
const EPOCH_TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

const app = document.getElementById('app');
const state = {
  route: null,
  sort: {}, // table id -> { key, desc }
  charts: [], // uPlot instances of the current view
  refreshTimer: null,
  refreshing: false,
  refreshAgain: false,
  lastRefresh: 0,
};

// ---------- small helpers ----------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'onclick') node.addEventListener('click', value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US')),
  tao: (rao) => (Number(rao) / RAO_PER_TAO).toLocaleString('en-US', { maximumFractionDigits: 4 }),
  u16: (v) => (Number(v) / U16_MAX).toFixed(4),
  ppb: (ppb) => `${(Number(ppb) / 1e7).toFixed(2)} %`,
  pct: (x) => (x === null || x === undefined ? '–' : `${(Number(x) * 100).toFixed(1)} %`),
  short: (text) => (text && text.length > 16 ? `${text.slice(0, 8)}…${text.slice(-6)}` : text || '–'),
  time: (ms) => (ms ? new Date(Number(ms)).toLocaleTimeString() : '–'),
};

function card(label, value, id) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value', id }, value));
}

function panel(title, note, ...body) {
  return el('section', { class: 'panel' },
    el('div', { class: 'panel-head' }, el('h2', {}, title), note ? el('span', { class: 'muted' }, note) : null),
    ...body);
}

function roleBadge(role) {
  const kind = role.startsWith('adversary') ? 'adversary' : role;
  return el('span', { class: `role ${kind}` }, role);
}

// ---------- sortable tables ----------

// columns: [{ key, label, num, render(row) -> node|text, sortValue(row) }]
function sortableTable(id, columns, rows, options = {}) {
  const sort = state.sort[id] || options.defaultSort || { key: columns[0].key, desc: false };
  const column = columns.find((c) => c.key === sort.key) || columns[0];
  const value = column.sortValue || ((row) => row[column.key]);
  const sorted = [...rows].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = typeof x === 'string' ? String(x).localeCompare(String(y)) : Number(x) - Number(y);
    return sort.desc ? -order : order;
  });
  const head = el('tr', {}, columns.map((c) => el('th', {
    class: ['sortable', c.num ? 'num' : '', c.key === sort.key ? 'sorted' : '', c.key === sort.key && sort.desc ? 'desc' : ''].join(' ').trim(),
    title: c.title,
    onclick: () => {
      const desc = c.key === sort.key ? !sort.desc : Boolean(c.num);
      state.sort[id] = { key: c.key, desc };
      table.replaceWith(sortableTable(id, columns, rows, options));
    },
  }, c.label)));
  const body = el('tbody', {}, sorted.map((row) => el('tr', {
    class: options.onRow ? 'clickable' : '',
    onclick: options.onRow ? () => options.onRow(row) : null,
  }, columns.map((c) => el('td', { class: c.num ? 'num' : '' }, c.render ? c.render(row) : row[c.key])))));
  const table = el('table', { id }, el('thead', {}, head), body);
  return table;
}

// ---------- charts ----------

function color(index) {
  return `hsl(${(index * 137.508) % 360}, 62%, 45%)`;
}

// series: [{ label, values, scale?, dash?, color? }]; x: numbers. Returns the container.
function lineChart(title, xLabel, x, series, axes = {}) {
  const box = el('div', { class: 'chart', dataset: { points: String(x.length), series: String(series.length) } });
  const wrap = panel(title, x.length ? `${x.length} epochs` : null, box);
  if (!x.length || !series.length) {
    box.append(el('div', { class: 'empty' }, 'No epochs recorded yet: the chart fills in as epochs run.'));
    return wrap;
  }
  requestAnimationFrame(() => {
    const width = Math.max(320, box.clientWidth || 560);
    const scales = { x: { time: false } };
    const yAxes = [{ scale: 'y', label: axes.y || '', size: 60 }];
    if (series.some((s) => s.scale === 'y2')) {
      scales.y2 = { auto: true };
      yAxes.push({ scale: 'y2', side: 1, grid: { show: false }, label: axes.y2 || '', size: 60 });
    }
    if (axes.yRange) scales.y = { range: axes.yRange };
    const options = {
      width,
      height: 240,
      scales,
      // Epochs are whole numbers: integer tick steps only.
      axes: [{ label: xLabel, incrs: EPOCH_TICK_STEPS }, ...yAxes],
      legend: { live: true },
      series: [{ label: xLabel }, ...series.map((s, i) => ({
        label: s.label,
        scale: s.scale || 'y',
        stroke: s.color || color(i),
        width: 2,
        dash: s.dash,
        points: { show: x.length < 40 },
      }))],
    };
    state.charts.push(new uPlot(options, [x, ...series.map((s) => s.values)], box));
  });
  return wrap;
}

function destroyCharts() {
  for (const chart of state.charts) chart.destroy();
  state.charts = [];
}

// Per-uid charts over the recorded epochs: the top earners by their latest emission.
function uidCharts(history) {
  const x = history.map((p) => p.epoch_index);
  const latest = history[history.length - 1];
  const uids = latest
    ? latest.uids
      .map((uid, i) => ({ uid, emission: latest.emission_rao[i] }))
      .sort((a, b) => b.emission - a.emission || a.uid - b.uid)
      .slice(0, CHART_SERIES_MAX)
      .map((entry) => entry.uid)
      .sort((a, b) => a - b)
    : [];
  const column = (field, scale) => uids.map((uid) => ({
    label: `uid ${uid}`,
    values: history.map((p) => {
      const i = p.uids.indexOf(uid);
      return i < 0 ? null : scale(p[field][i]);
    }),
  }));
  const note = latest && latest.uids.length > uids.length ? ` (top ${uids.length} of ${latest.uids.length})` : '';
  return el('div', { class: 'grid2' },
    lineChart(`Emission per uid${note}`, 'epoch', x, column('emission_rao', (v) => v / RAO_PER_TAO), { y: 'alpha' }),
    lineChart(`Incentive per uid${note}`, 'epoch', x, column('incentive', (v) => v / U16_MAX), { y: 'incentive', yRange: [0, 1] }));
}

function trainingCharts(training) {
  if (!training.present) {
    return panel('Training', null, el('p', { class: 'notice', id: 'no-training' }, 'no training subnet'));
  }
  const epochs = training.epochs;
  const x = epochs.map((e) => e.epoch);
  const series = [
    { label: 'accuracy', values: epochs.map((e) => e.accuracy), color: '#2f6fde' },
    { label: 'loss', values: epochs.map((e) => e.loss), scale: 'y2', color: '#d64545' },
  ];
  if (epochs.some((e) => e.baseline_accuracy !== null)) {
    series.push({ label: 'baseline accuracy', values: epochs.map((e) => e.baseline_accuracy), dash: [6, 4], color: '#6b7385' });
  }
  const share = [{ label: "adversaries' share", values: epochs.map((e) => e.adversary_emission_share), color: '#c98a12' }];
  const last = epochs[epochs.length - 1];
  const link = training.netuid !== null ? el('a', { href: `#/subnet/${training.netuid}` }, `subnet ${training.netuid}`) : 'training';
  return el('div', { id: 'training' },
    el('div', { class: 'cards' },
      card('training subnet', link),
      card('accuracy', last ? fmt.pct(last.accuracy) : '–'),
      card('loss', last && last.loss !== null ? Number(last.loss).toFixed(4) : '–'),
      card("adversaries' share", last ? fmt.pct(last.adversary_emission_share) : '–')),
    el('div', { class: 'grid2' },
      lineChart('Global model: accuracy and loss', 'epoch', x, series, { y: 'accuracy', y2: 'loss', yRange: [0, 1] }),
      lineChart("Adversaries' share of emission", 'epoch', x, share, { y: 'share', yRange: [0, 1] })));
}

// ---------- views ----------

function blocksTable(blocks) {
  const rows = blocks.slice(0, RECENT_BLOCKS_SHOWN);
  return el('table', { id: 'recent-blocks' },
    el('thead', {}, el('tr', {}, ['block', 'hash', 'time', 'txs', 'calls', 'epochs'].map((h) => el('th', { class: h === 'block' || h === 'txs' ? 'num' : '' }, h)))),
    el('tbody', {}, rows.map((b) => el('tr', {},
      el('td', { class: 'num' }, fmt.int(b.number)),
      el('td', { class: 'mono', title: b.hash }, fmt.short(b.hash)),
      el('td', {}, fmt.time(b.timestamp_ms)),
      el('td', { class: 'num' }, b.failed_tx_count ? `${b.tx_count} (${b.failed_tx_count} failed)` : b.tx_count),
      el('td', {}, b.calls.join(', ')),
      el('td', {}, b.epochs.map((n) => el('a', { href: `#/subnet/${n}` }, `subnet ${n} `)))))));
}

function subnetsTable(subnets) {
  const columns = [
    { key: 'netuid', label: 'netuid', num: true, render: (s) => el('a', { href: `#/subnet/${s.netuid}` }, s.netuid) },
    { key: 'name', label: 'name', sortValue: (s) => s.name || '', render: (s) => [s.name || '–', s.training ? el('span', { class: 'role miner' }, ' training') : null] },
    { key: 'price_rao_per_alpha', label: 'price (τ/α)', num: true, render: (s) => fmt.tao(s.price_rao_per_alpha) },
    { key: 'emission_share_ppb', label: 'emission share', num: true, render: (s) => fmt.ppb(s.emission_share_ppb) },
    { key: 'tempo', label: 'tempo', num: true },
    { key: 'n', label: 'neurons', num: true },
    { key: 'epoch_index', label: 'epochs', num: true, render: (s) => fmt.int(s.epoch_index) },
    { key: 'tao_reserve_rao', label: 'τ in pool', num: true, render: (s) => fmt.tao(s.tao_reserve_rao) },
  ];
  return sortableTable('subnets', columns, subnets, { onRow: (s) => { location.hash = `#/subnet/${s.netuid}`; } });
}

async function viewChain() {
  const [chain, subnets, training] = await Promise.all([api('/api/chain'), api('/api/subnets'), api('/api/training')]);
  setHeads(chain.best.number, chain.finalized.number);
  return [
    el('h1', {}, `Chain ${chain.chain}`),
    el('div', { class: 'cards' },
      card('best block', fmt.int(chain.best.number), 'card-best'),
      card('finalized', fmt.int(chain.finalized.number), 'card-finalized'),
      card('block time', `${chain.block_time_ms} ms`),
      card('mempool', fmt.int(chain.mempool_len)),
      card('subnets', fmt.int(subnets.length)),
      card('node', chain.version)),
    trainingCharts(training),
    panel('Subnets', 'click a row for its metagraph', subnetsTable(subnets)),
    panel('Recent blocks', `genesis ${fmt.short(chain.genesis_hash)}`, blocksTable(chain.recent_blocks)),
  ];
}

async function viewSubnets() {
  const subnets = await api('/api/subnets');
  return [el('h1', {}, 'Subnets'), panel('Subnets', 'click a row for its metagraph', subnetsTable(subnets))];
}

function metagraphTable(netuid, rows) {
  const columns = [
    { key: 'uid', label: 'uid', num: true, render: (r) => el('a', { href: `#/subnet/${netuid}/neuron/${r.uid}` }, r.uid) },
    { key: 'role', label: 'role', render: (r) => roleBadge(r.role) },
    { key: 'hotkey', label: 'hotkey', render: (r) => el('span', { class: 'mono', title: r.hotkey }, fmt.short(r.hotkey)) },
    { key: 'stake_rao', label: 'stake (α)', num: true, render: (r) => fmt.tao(r.stake_rao) },
    { key: 'incentive', label: 'incentive', num: true, render: (r) => fmt.u16(r.incentive) },
    { key: 'dividends', label: 'dividends', num: true, render: (r) => fmt.u16(r.dividends) },
    { key: 'emission_rao', label: 'emission (α)', num: true, render: (r) => fmt.tao(r.emission_rao) },
    { key: 'validator_trust', label: 'v. trust', num: true, title: 'validator trust', render: (r) => fmt.u16(r.validator_trust) },
    { key: 'last_update', label: 'last update', num: true, render: (r) => fmt.int(r.last_update) },
    { key: 'axon', label: 'axon', sortValue: (r) => r.axon || '', render: (r) => el('span', { class: 'mono' }, r.axon || '–') },
  ];
  return sortableTable('metagraph', columns, rows, {
    onRow: (r) => { location.hash = `#/subnet/${netuid}/neuron/${r.uid}`; },
  });
}

async function viewSubnet(netuid) {
  const [page, training] = await Promise.all([api(`/api/subnets/${netuid}`), api('/api/training')]);
  const s = page.subnet;
  const timing = page.timing;
  return [
    el('h1', {}, `Subnet ${s.netuid}${s.name ? ` · ${s.name}` : ''}`),
    el('div', { class: 'cards' },
      card('price (τ per α)', fmt.tao(s.price_rao_per_alpha)),
      card('emission share', fmt.ppb(s.emission_share_ppb)),
      card('tempo', `${s.tempo} blocks`),
      card('neurons', fmt.int(s.n), 'card-neurons'),
      card('epochs run', fmt.int(s.epoch_index)),
      card('next epoch', timing && timing.blocks_until_next_epoch !== null ? `in ${timing.blocks_until_next_epoch} blocks` : '–'),
      card('burn to register', `${fmt.tao(s.burn_rao)} τ`)),
    uidCharts(page.history),
    s.training ? trainingCharts(training) : null,
    panel('Metagraph', `at block ${fmt.int(page.block)} · click a header to sort, a row for the neuron`, metagraphTable(s.netuid, page.rows)),
  ];
}

function receipt(explain) {
  if (!explain) return el('p', { class: 'notice' }, 'No epoch to explain yet (or this uid was not in the last one).');
  const weights = explain.weights_received || [];
  return el('div', {},
    el('dl', { class: 'kv', id: 'explain' },
      el('dt', {}, 'epoch block'), el('dd', {}, fmt.int(explain.epoch_block)),
      el('dt', {}, 'stake'), el('dd', {}, `${fmt.tao(explain.stake)} α (weight ${fmt.u16(explain.stake_weight)})`),
      el('dt', {}, 'consensus'), el('dd', {}, fmt.u16(explain.consensus)),
      el('dt', {}, 'incentive'), el('dd', {}, fmt.u16(explain.incentive)),
      el('dt', {}, 'dividends'), el('dd', {}, fmt.u16(explain.dividends)),
      el('dt', {}, 'emission'), el('dd', {}, `${fmt.tao(explain.emission)} α (miner ${fmt.tao(explain.server_emission)}, validator ${fmt.tao(explain.validator_emission)})`),
      el('dt', {}, 'paid'), el('dd', {}, `incentive ${fmt.tao(explain.paid_incentive)} · take ${fmt.tao(explain.paid_take)} · nominators ${fmt.tao(explain.paid_nominators)} · recycled ${fmt.tao(explain.recycled)}`),
      el('dt', {}, 'why zero'), el('dd', {}, (explain.zero_reasons || []).join(', ') || '–')),
    el('h2', { style: 'margin-top:14px' }, 'Weights received'),
    weights.length
      ? el('table', {},
        el('thead', {}, el('tr', {}, ['validator', 'raw', 'normalized', 'clipped'].map((h) => el('th', { class: h === 'validator' ? '' : 'num' }, h)))),
        el('tbody', {}, weights.map((w) => el('tr', {},
          el('td', {}, `uid ${w.validator}`),
          el('td', { class: 'num' }, w.raw),
          el('td', { class: 'num' }, fmt.u16(w.normalized)),
          el('td', { class: 'num' }, fmt.u16(w.clipped))))))
      : el('p', { class: 'muted' }, 'none'));
}

async function viewNeuron(netuid, uid) {
  const page = await api(`/api/subnets/${netuid}/neurons/${uid}`);
  const n = page.neuron;
  const x = page.history.map((p) => p.epoch_index);
  return [
    el('h1', {}, el('a', { href: `#/subnet/${netuid}` }, `Subnet ${netuid}`), ` · uid ${uid} `, roleBadge(page.role)),
    el('div', { class: 'cards' },
      card('stake (α)', fmt.tao(n.stake_rao)),
      card('incentive', fmt.u16(n.incentive)),
      card('dividends', fmt.u16(n.dividends)),
      card('emission (α)', fmt.tao(n.emission_rao)),
      card('validator trust', fmt.u16(n.validator_trust)),
      card('last update', fmt.int(n.last_update))),
    el('div', { class: 'grid2' },
      panel('Neuron', null, el('dl', { class: 'kv' },
        el('dt', {}, 'hotkey'), el('dd', { class: 'mono' }, n.hotkey),
        el('dt', {}, 'coldkey'), el('dd', { class: 'mono' }, n.coldkey),
        el('dt', {}, 'registered at'), el('dd', {}, fmt.int(n.registered_at)),
        el('dt', {}, 'active'), el('dd', {}, n.active ? 'yes' : 'no'),
        el('dt', {}, 'validator permit'), el('dd', {}, n.validator_permit ? 'yes' : 'no'),
        el('dt', {}, 'axon'), el('dd', { class: 'mono' }, n.axon && n.axon.port ? `${n.axon.ip}:${n.axon.port}` : '–'),
        el('dt', {}, 'weights set'), el('dd', {}, n.weights.map(([u, w]) => `uid ${u}: ${fmt.u16(w)}`).join(', ') || '–'),
        el('dt', {}, 'stakers'), el('dd', {}, n.stakers.map(([who, rao]) => `${fmt.short(who)} ${fmt.tao(rao)} α`).join(', ') || '–'))),
      panel('Explain: the last epoch’s emission receipt', null, receipt(page.explain))),
    lineChart('This uid over epochs', 'epoch', x, [
      { label: 'emission (α)', values: page.history.map((p) => p.emission_rao / RAO_PER_TAO) },
      { label: 'incentive', values: page.history.map((p) => p.incentive / U16_MAX), scale: 'y2' },
    ], { y: 'alpha', y2: 'incentive' }),
  ];
}

// ---------- routing and refresh ----------

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'subnets') return { name: 'subnets' };
  if (parts[0] === 'subnet' && /^\d+$/.test(parts[1] || '')) {
    if (parts[2] === 'neuron' && /^\d+$/.test(parts[3] || '')) {
      return { name: 'neuron', netuid: Number(parts[1]), uid: Number(parts[3]) };
    }
    return { name: 'subnet', netuid: Number(parts[1]) };
  }
  return { name: 'chain' };
}

function build(route) {
  switch (route.name) {
    case 'subnets': return viewSubnets();
    case 'subnet': return viewSubnet(route.netuid);
    case 'neuron': return viewNeuron(route.netuid, route.uid);
    default: return viewChain();
  }
}

async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  state.lastRefresh = Date.now();
  const route = state.route;
  try {
    const content = await build(route);
    if (route === state.route) {
      destroyCharts();
      app.replaceChildren(...content.filter(Boolean));
      document.body.dataset.view = route.name;
      document.body.dataset.ready = '1';
    }
  } catch (error) {
    app.replaceChildren(el('p', { class: 'error' }, `Could not load: ${error.message}`));
  } finally {
    state.refreshing = false;
    if (state.refreshAgain) {
      state.refreshAgain = false;
      scheduleRefresh(0);
    }
  }
}

function scheduleRefresh(delayMs) {
  if (state.refreshTimer !== null) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    refresh();
  }, delayMs);
}

function onRoute() {
  state.route = parseRoute();
  delete document.body.dataset.ready;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === `#/${state.route.name === 'chain' ? '' : 'subnets'}`);
  }
  window.scrollTo(0, 0);
  refresh();
}

function setHeads(best, finalized) {
  if (best !== undefined) document.getElementById('best-number').textContent = fmt.int(best);
  if (finalized !== undefined) document.getElementById('finalized-number').textContent = fmt.int(finalized);
  const cardBest = document.getElementById('card-best');
  if (cardBest && best !== undefined) cardBest.textContent = fmt.int(best);
  const cardFinal = document.getElementById('card-finalized');
  if (cardFinal && finalized !== undefined) cardFinal.textContent = fmt.int(finalized);
}

// ---------- live updates ----------

function connectLive(retryMs = 1000) {
  const indicator = document.getElementById('live');
  const label = document.getElementById('live-text');
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket.onopen = () => {
    indicator.className = 'live on';
    label.textContent = 'live';
    retryMs = 1000;
  };
  socket.onmessage = (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    switch (message.type) {
      case 'head':
        setHeads(message.best.number);
        break;
      case 'block': {
        setHeads(undefined, message.finalized.number);
        const since = Date.now() - state.lastRefresh;
        scheduleRefresh(Math.max(0, REFRESH_MIN_MS - since));
        break;
      }
      case 'epoch':
      case 'training':
      case 'resync':
        scheduleRefresh(0);
        break;
      default:
        break;
    }
  };
  socket.onclose = () => {
    indicator.className = 'live off';
    label.textContent = 'reconnecting';
    setTimeout(() => connectLive(Math.min(retryMs * 2, 10000)), retryMs);
  };
}

window.addEventListener('hashchange', onRoute);
onRoute();
connectLive();
