import Agent
import Foundation

/// `GET /`: the trace viewer, one static page (HTML, CSS and JS inline; nothing fetched from
/// elsewhere). It lists episodes (`#/`), shows one episode's steps (`#/episodes/ID`) with the
/// screenshot (the click and the grounding region drawn over it as an SVG in the screenshot's
/// pixels, see `StepOverlay`),
/// reasoning and action, and polls every 2 s while one runs.
/// With a token, open it as `/#token=TOKEN`: the page keeps it in sessionStorage and sends it as
/// a bearer header; the fragment never reaches the server or its logs.
extension GUIAgentService {
  func viewerPage() -> HTTPResponse {
    HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache"),
                                        ("Content-Security-Policy", "default-src 'self' blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' blob:")],
                 body: .bytes(Data(ViewerPage.html.utf8)))
  }
}

enum ViewerPage {
  static let html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gui-agent traces</title>
<style>
\(css)
</style>
</head>
<body>
<header><a href="#/" id="home">gui-agent traces</a><span id="state"></span></header>
<main id="main"><p class="muted">Loading…</p></main>
<script>
\(script)
</script>
</body>
</html>
"""

  static let css = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
#state { color: #9aa4b8; font-size: 12px; }
main { padding: 16px 18px; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6ec; }
tr.ep { cursor: pointer; } tr.ep:hover { background: #eef3ff; }
.status { font-weight: 600; padding: 1px 8px; border-radius: 9px; font-size: 12px; background: #e3e6ec; }
.status.running { background: #ffe8a3; } .status.succeeded { background: #c9f2d0; }
.status.failed, .status.interrupted { background: #ffd0d0; } .status.stopped, .status.max_steps { background: #dde3f0; }
.muted { color: #6b7487; }
.step { background: #fff; border: 1px solid #e3e6ec; border-radius: 6px; margin: 12px 0; padding: 12px; display: grid;
        grid-template-columns: minmax(200px, 560px) 1fr; gap: 14px; }
.shot { position: relative; align-self: start; }
.shot img { width: 100%; display: block; border: 1px solid #ccd; }
.action { font-family: ui-monospace, monospace; background: #f0f2f6; padding: 4px 8px; border-radius: 4px; display: inline-block; }
.reasoning { white-space: pre-wrap; }
.error { color: #b00020; }
h2 { margin: 4px 0 8px; font-size: 18px; }
\(StepOverlay.css)
"""

  static let script = """
'use strict';
(function () {
  const main = document.getElementById('main');
  const state = document.getElementById('state');
  let timer = null;
  // A token given as #token=... is kept for this tab only and removed from the address.
  const m = /[#&]token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem('gui-agent-token', decodeURIComponent(m[1])); history.replaceState(null, '', '#/'); }
  const token = sessionStorage.getItem('gui-agent-token');
  const headers = token ? { 'Authorization': 'Bearer ' + token } : {};

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) { if (k === 'class') e.className = v; else e.setAttribute(k, v); }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  async function api(path) {
    const r = await fetch(path, { headers });
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return r.json();
  }
  async function image(path) {
    if (!token) return path;
    const r = await fetch(path, { headers });
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return URL.createObjectURL(await r.blob());
  }
  // The marks of StepOverlay (Agent) in the screenshot's pixels: the grounding region's rectangle,
  // and a circle and a crosshair at the click, each stroked twice (a white halo under the colour).
  const svgNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  }
  function clickText(p) { return 'click at (' + p.x + ', ' + p.y + ')'; }
  function regionText(b) { return 'grounding region ' + b.w + ' x ' + b.h + ' at (' + b.x + ', ' + b.y + ')'; }
  function overlay(p, b, w, h) {
    const svg = svgEl('svg', { class: 'overlay', viewBox: '0 0 ' + w + ' ' + h, preserveAspectRatio: 'none', role: 'img',
                              'aria-label': [p && clickText(p), b && regionText(b)].filter(Boolean).join(', ') });
    if (b) {
      const region = svgEl('g', { class: 'region', 'data-x': b.x, 'data-y': b.y, 'data-w': b.w, 'data-h': b.h });
      for (const cls of ['halo', 'ink']) region.append(svgEl('rect', { x: b.x, y: b.y, width: b.w, height: b.h, class: cls }));
      svg.append(region);
    }
    if (p) {
      const r = Math.max(6, Math.round(Math.max(w, h) / 70)), arm = 2 * r, gap = r / 2, len = arm - gap;
      const at = 'M' + p.x + ' ' + p.y;
      const d = at + 'm-' + arm + ' 0h' + len + at + 'm' + gap + ' 0h' + len + at + 'm0 -' + arm + 'v' + len + at + 'm0 ' + gap + 'v' + len;
      const mark = svgEl('g', { class: 'click', 'data-x': p.x, 'data-y': p.y });
      for (const cls of ['halo', 'ink']) mark.append(svgEl('circle', { cx: p.x, cy: p.y, r: r, class: cls }), svgEl('path', { d: d, class: cls }));
      svg.append(mark);
    }
    return svg;
  }
  function badge(status) { return el('span', { class: 'status ' + status }, status); }
  function schedule(live) {
    clearTimeout(timer);
    if (live) timer = setTimeout(route, 2000);
    state.textContent = live ? 'live: refreshing every 2 s' : 'updated ' + new Date().toLocaleTimeString();
  }

  async function list() {
    const data = await api('/v1/episodes');
    const rows = data.episodes.map(e => {
      const tr = el('tr', { class: 'ep', 'data-id': e.id }, el('td', {}, '#' + e.id), el('td', {}, e.task),
                    el('td', {}, badge(e.status)), el('td', {}, e.steps), el('td', { class: 'muted' }, e.started));
      tr.addEventListener('click', () => { location.hash = '#/episodes/' + e.id; });
      return tr;
    });
    main.replaceChildren(el('h2', {}, 'Episodes'), data.episodes.length === 0 ? el('p', { class: 'muted' }, 'No episodes yet.')
      : el('table', { id: 'episodes' }, el('tr', {}, el('th', {}, 'id'), el('th', {}, 'task'), el('th', {}, 'status'),
                                          el('th', {}, 'steps'), el('th', {}, 'started')), ...rows));
    schedule(data.episodes.some(e => e.status === 'running'));
  }

  async function episode(id) {
    const e = await api('/v1/episodes/' + encodeURIComponent(id));
    const steps = [];
    for (const s of e.steps) {
      const shot = el('div', { class: 'shot' });
      if (s.screenshot_before) {
        const img = el('img', { alt: 'step ' + s.index + ' screenshot' });
        img.src = await image(s.screenshot_before);
        shot.append(img);
        if (s.grounded_point || s.grounded_box) {
          // The overlay's viewBox is the screenshot's own size, known once the image has loaded.
          const draw = () => shot.append(overlay(s.grounded_point, s.grounded_box, img.naturalWidth, img.naturalHeight));
          if (img.complete && img.naturalWidth) draw(); else img.addEventListener('load', draw);
        }
      } else shot.append(el('p', { class: 'muted' }, 'no screenshot'));
      const legend = el('div', {},
        s.screenshot_before && s.grounded_point
          ? el('p', { class: 'legend' }, el('span', { class: 'key click' }), clickText(s.grounded_point) + ' screen pixels') : null,
        s.screenshot_before && s.grounded_box
          ? el('p', { class: 'legend' }, el('span', { class: 'key region' }), regionText(s.grounded_box) + ' screen pixels') : null);
      const lat = Object.entries(s.latencies || {}).map(([k, v]) => k + ' ' + Math.round(v) + ' ms').join(', ');
      steps.push(el('section', { class: 'step', 'data-step': s.index }, el('div', {}, shot, legend), el('div', {},
        el('h3', {}, 'Step ' + s.index),
        el('p', {}, 'Action: ', el('span', { class: 'action' }, s.action_text || '(none)')),
        s.grounded_point ? el('p', {}, 'Click at (' + s.grounded_point.x + ', ' + s.grounded_point.y + ')') : null,
        s.reasoning ? el('p', { class: 'reasoning' }, 'Reasoning: ' + s.reasoning) : null,
        s.error ? el('p', { class: 'error' }, 'Error: ' + s.error) : null,
        lat ? el('p', { class: 'muted' }, lat) : null)));
    }
    main.replaceChildren(
      el('h2', {}, 'Episode #' + e.id + ': ' + e.task, ' ', badge(e.status)),
      el('p', { class: 'muted' }, 'started ' + e.started + (e.ended ? ', ended ' + e.ended : '') + ', ' + e.steps.length + ' steps'),
      e.summary ? el('p', {}, 'Summary: ' + e.summary) : null,
      e.error ? el('p', { class: 'error' }, 'Error: ' + e.error) : null,
      ...steps);
    schedule(e.status === 'running');
  }

  async function route() {
    const m = /^#\\/episodes\\/([0-9]+)$/.exec(location.hash);
    try { if (m) await episode(m[1]); else await list(); }
    catch (err) { main.replaceChildren(el('p', { class: 'error' }, String(err))); schedule(false); }
  }
  window.addEventListener('hashchange', route);
  route();
})();
"""
}
