// The camrec console: talks to wsrecv's /dev?v=2 (wsrecv(1) lists the
// messages). Everything a camera, a recording or a URL says is put on the
// page as text (textContent), never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const PREVIEW_HDR = 20;
const state = { ws: null, cams: new Map(), recText: '' };

// WebCodecs exists only in secure contexts (https, localhost); elsewhere
// the phones' H.264 goes through Media Source Extensions (jmuxer).
function decoderKind() {
  if (typeof window.VideoDecoder === 'function') return 'webcodecs';
  if (typeof window.JMuxer === 'function' && window.MediaSource) return 'mse';
  return 'none';
}

function log(text, cls) {
  const li = document.createElement('li');
  const t = document.createElement('time');
  t.textContent = new Date().toLocaleTimeString();
  li.append(t, document.createTextNode(text));
  if (cls) li.className = cls;
  const ol = $('log');
  ol.append(li);
  while (ol.children.length > 500) ol.firstChild.remove();
  ol.scrollTop = ol.scrollHeight;
}

function badge(text, cls) {
  $('badge').textContent = text;
  $('badge').className = 'badge ' + cls;
}

function send(obj) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(obj));
    return true;
  }
  log('not connected', 'error');
  return false;
}

function params() {
  const p = {
    bitrate: parseInt($('bitrate').value, 10),
    fps: parseInt($('fps').value, 10),
    ratio: $('ratio').value || null,
    quality: parseInt($('quality').value, 10),
  };
  if ($('res').value) p.res = $('res').value;
  return p;
}

function command(type, ids) {
  const msg = Object.assign({ type, ids }, type === 'start' ? params() : {});
  if (send(msg) && Array.isArray(ids))
    for (const id of ids) setAnswer(id, type + ': waiting', '');
}

// --- H.264 helpers -------------------------------------------------------

function nals(buf) {
  const out = [];
  let i = 0, start = -1;
  while (i + 3 <= buf.length) {
    if (buf[i] === 0 && buf[i + 1] === 0 && (buf[i + 2] === 1 ||
        (buf[i + 2] === 0 && i + 3 < buf.length && buf[i + 3] === 1))) {
      const sc = buf[i + 2] === 1 ? 3 : 4;
      if (start >= 0) out.push(buf.subarray(start, i));
      i += sc;
      start = i;
    } else i++;
  }
  if (start >= 0) out.push(buf.subarray(start));
  return out;
}

function findSps(buf) {
  if (!buf) return null;
  for (const n of nals(buf)) if (n.length >= 4 && (n[0] & 31) === 7) return n;
  return null;
}

function concat(a, b) {
  const c = new Uint8Array(a.length + b.length);
  c.set(a, 0);
  c.set(b, a.length);
  return c;
}

const hex2 = (v) => v.toString(16).padStart(2, '0');

// A phone's preview decoded with WebCodecs onto a canvas.
class WebCodecsView {
  constructor(box) {
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d');
    this.box = box;
    this.config = null;
    this.decoder = null;
    this.waitKey = true;
    this.frames = 0;
  }
  open(au) {
    const sps = findSps(this.config) || findSps(au);
    if (!sps) return false;
    const codec = 'avc1.' + hex2(sps[1]) + hex2(sps[2]) + hex2(sps[3]);
    this.decoder = new VideoDecoder({
      output: (f) => this.show(f),
      error: (e) => { log('decoder: ' + e.message, 'error'); this.decoder = null; },
    });
    this.decoder.configure({ codec, optimizeForLatency: true });
    this.waitKey = true;
    return true;
  }
  show(f) {
    if (this.canvas.width !== f.displayWidth) this.canvas.width = f.displayWidth;
    if (this.canvas.height !== f.displayHeight) this.canvas.height = f.displayHeight;
    this.ctx.drawImage(f, 0, 0);
    f.close();
    if (this.frames++ === 0) this.box.replaceChildren(this.canvas);
    this.box.dataset.frames = this.frames;
  }
  push(flags, ts, au) {
    if (flags & 2) { this.config = au; return; }
    const key = (flags & 1) !== 0;
    if (!this.decoder || this.decoder.state === 'closed') {
      if (!key || !this.open(au)) return;
    }
    // A decoder that cannot keep up waits for the next key frame.
    if (!key && (this.waitKey || this.decoder.decodeQueueSize > 30)) {
      this.waitKey = true;
      return;
    }
    const data = key && this.config && !findSps(au) ? concat(this.config, au) : au;
    this.waitKey = false;
    try {
      this.decoder.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: ts, data }));
    } catch (e) {
      this.waitKey = true;
    }
  }
  close() { if (this.decoder && this.decoder.state !== 'closed') this.decoder.close(); }
}

// A phone's preview through Media Source Extensions: jmuxer makes
// fragmented MP4 of the access units for a <video>. jmuxer must see the
// SPS only once its MediaSource is open, so nothing is fed before that.
class MseView {
  constructor(box) {
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.box = box;
    this.config = null;
    this.waitKey = true;
    this.ready = false;
    this.frames = 0;
    this.jm = new JMuxer({ node: this.video, mode: 'video', flushingTime: 0,
      fps: 30, maxDelay: 1000, debug: false,
      onReady: () => { this.ready = true; },
      onError: () => { this.waitKey = true; } });
  }
  push(flags, ts, au) {
    if (flags & 2) { this.config = au; return; }
    const key = (flags & 1) !== 0;
    if (!this.ready || (this.waitKey && !key)) return;
    const data = key && this.config && !findSps(au) ? concat(this.config, au) : au;
    this.waitKey = false;
    this.jm.feed({ video: data });
    if (this.frames++ === 0) this.box.replaceChildren(this.video);
    this.box.dataset.frames = this.frames;
  }
  close() { this.jm.destroy(); }
}

// An ESP32 board's preview: each JPEG as an image.
class JpegView {
  constructor(box) {
    this.img = document.createElement('img');
    this.img.alt = 'ESP32 image';
    this.box = box;
    this.url = null;
    this.frames = 0;
    this.busy = false;
  }
  push(flags, ts, jpeg) {
    if (this.busy) { this.next = jpeg; return; }
    this.busy = true;
    const url = URL.createObjectURL(new Blob([jpeg], { type: 'image/jpeg' }));
    this.img.onload = this.img.onerror = () => {
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = url;
      this.busy = false;
      if (this.frames++ === 0) this.box.replaceChildren(this.img);
      this.box.dataset.frames = this.frames;
      if (this.next) { const n = this.next; this.next = null; this.push(1, 0, n); }
    };
    this.img.src = url;
  }
  close() { if (this.url) URL.revokeObjectURL(this.url); }
}

// --- cameras -----------------------------------------------------------

function setAnswer(id, text, cls) {
  const cam = state.cams.get(id);
  if (!cam) return;
  const a = cam.el.querySelector('.answer');
  a.textContent = text;
  a.className = 'answer ' + cls;
}

function newCamera(c) {
  const el = $('camera-card').content.firstElementChild.cloneNode(true);
  el.dataset.id = c.id;
  el.dataset.kind = c.kind;
  const box = el.querySelector('.preview');
  const cam = { el, box, view: null, kind: c.kind };
  if (c.kind === 'esp32') cam.view = new JpegView(box);
  else if (decoderKind() === 'webcodecs') cam.view = new WebCodecsView(box);
  else if (decoderKind() === 'mse') cam.view = new MseView(box);
  el.querySelector('.start').onclick = () => command('start', [c.id]);
  el.querySelector('.stop').onclick = () => command('stop', [c.id]);
  el.querySelector('.full').onclick = () => box.requestFullscreen && box.requestFullscreen();
  $('cameras').append(el);
  state.cams.set(c.id, cam);
  return cam;
}

function fmtRate(c) {
  return (c.fps || 0).toFixed(0) + ' fps, ' + Math.round(c.kbps || 0) + ' kbit/s';
}

function updateCameras(list) {
  const seen = new Set();
  let added = false;
  for (const c of list) {
    seen.add(c.id);
    let cam = state.cams.get(c.id);
    if (!cam) { cam = newCamera(c); added = true; }
    const q = (s) => cam.el.querySelector(s);
    q('.kind').textContent = c.kind === 'esp32' ? 'ESP32' : 'Phone';
    q('.peer').textContent = c.peer + ':' + c.port + ' ' + c.path;
    q('.model').textContent = c.device_model == null ? '' : 'model: ' + c.device_model;
    q('.rec').textContent = c.recording === true ? '● recording' :
      c.recording === false ? 'not recording' : '';
    q('.rate').textContent = fmtRate(c);
    q('.session').textContent = c.session ? 'session: ' + c.session : '';
  }
  for (const [id, cam] of state.cams) {
    if (seen.has(id)) continue;
    if (cam.view) cam.view.close();
    cam.el.remove();
    state.cams.delete(id);
  }
  $('nocams').hidden = state.cams.size > 0;
  if (added) send({ type: 'watch', ids: [...state.cams.keys()] });
}

function onPreview(buf) {
  if (buf.byteLength < PREVIEW_HDR) return;
  const dv = new DataView(buf);
  const type = dv.getUint8(0), flags = dv.getUint8(1);
  const id = Number(dv.getBigUint64(4));
  const ts = Number(dv.getBigUint64(12));
  const cam = state.cams.get(id);
  if (!cam || !cam.view || (type !== 1 && type !== 2)) return;
  cam.view.push(flags, ts, new Uint8Array(buf, PREVIEW_HDR));
}

function onMessage(m) {
  switch (m.type) {
  case 'hello':
    log('connected to ' + (m.server || 'server'));
    break;
  case 'cameras':
    updateCameras(m.cameras || []);
    break;
  case 'log':
    log((m.id ? 'camera ' + m.id + ': ' : '') + m.text);
    break;
  case 'answer':
    setAnswer(m.id, m.command + ': ' + m.result + (m.text ? ' (' + m.text + ')' : ''),
      m.result === 'confirmed' ? 'confirmed' : m.result === 'error' ? 'error' : 'none');
    log('camera ' + m.id + ': ' + m.command + ' ' + m.result);
    break;
  case 'sent':
    log(m.command + ' sent to ' + m.ids.length + ' camera(s)');
    break;
  case 'refused':
    log('refused: ' + m.error + '; nothing sent', 'error');
    break;
  }
}

function connect() {
  if (state.ws) { state.ws.close(); return; }
  const url = $('url').value.trim();
  let ws;
  try { ws = new WebSocket(url); } catch (e) { log('bad URL: ' + e.message, 'error'); return; }
  ws.binaryType = 'arraybuffer';
  state.ws = ws;
  badge('connecting', 'wait');
  $('connect').textContent = 'Disconnect';
  ws.onopen = () => badge('connected', 'on');
  ws.onmessage = (ev) => {
    if (typeof ev.data !== 'string') { onPreview(ev.data); return; }
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { log(ev.data); return; }
    onMessage(m);
  };
  ws.onclose = (ev) => {
    log('disconnected (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + ')');
    badge('disconnected', 'off');
    $('connect').textContent = 'Connect';
    state.ws = null;
    updateCameras([]);
  };
}

// --- recordings ---------------------------------------------------------

function fmtSize(n) {
  if (n == null) return '';
  const u = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + u[i];
}

function line(text) {
  const d = document.createElement('div');
  d.textContent = text;
  return d;
}

function play(url) {
  const p = $('player');
  p.hidden = false;
  p.src = url;
  p.play().catch(() => {});
}

function renderRecordings(list) {
  const box = $('recordings');
  box.replaceChildren();
  for (const r of list) {
    const el = document.createElement('article');
    el.className = 'recording';
    el.dataset.folder = r.folder;
    const img = document.createElement('img');
    img.alt = 'thumbnail';
    if (typeof r.thumbnail === 'string' && r.thumbnail.startsWith('/recordings/'))
      img.src = r.thumbnail;
    const cam = r.camera ? r.camera.address + ':' + r.camera.port : r.folder;
    el.append(img, line(cam + (r.device_model ? ' ' + r.device_model : '')),
      line(r.start || ''),
      line((r.duration != null ? r.duration.toFixed(1) + ' s · ' : '') +
        fmtSize(r.size) + ' · ' + r.state));
    if (typeof r.video === 'string' && r.video.startsWith('/recordings/'))
      el.onclick = () => play(r.video);
    box.append(el);
  }
}

async function loadRecordings() {
  try {
    const res = await fetch('/api/recordings', { cache: 'no-store' });
    if (!res.ok) return;
    const text = await res.text();
    if (text === state.recText) return;
    state.recText = text;
    renderRecordings(JSON.parse(text).recordings || []);
  } catch (e) {
    /* the recorder may be restarting */
  }
}

// --- wiring -------------------------------------------------------------

window.addEventListener('DOMContentLoaded', () => {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  $('url').value = proto + '//' + (location.host || '127.0.0.1:50001') + '/dev?v=2';
  $('decoder').textContent = 'phone preview: ' + decoderKind();
  $('server').onsubmit = (e) => { e.preventDefault(); connect(); };
  $('start-all').onclick = () => command('start', 'all');
  $('stop-all').onclick = () => command('stop', 'all');
  $('status-all').onclick = () => command('status', 'all');
  $('cmdline').onsubmit = (e) => {
    e.preventDefault();
    const text = $('cmd').value.trim();
    if (text && send({ type: 'command', text })) {
      log('> ' + text);
      $('cmd').value = '';
    }
  };
  $('clear').onclick = () => $('log').replaceChildren();
  $('refresh').onclick = () => { state.recText = ''; loadRecordings(); };
  loadRecordings();
  setInterval(loadRecordings, 3000);
  connect();
});
