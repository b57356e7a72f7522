// dubber studio: the review page. Plain JavaScript, no dependencies.
"use strict";

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
if (params.get("token")) {
  // Kept for this tab's API calls; the server set a cookie for the media and the page itself.
  sessionStorage.setItem("dubberToken", params.get("token"));
  history.replaceState(null, "", location.pathname);
}
const token = sessionStorage.getItem("dubberToken") || "";

const video = $("#video");
const dub = $("#dub");
const tbody = $("#lines tbody");
const strip = $("#strip");
const overview = $("#overview");
let project = null;
let selected = 0; // index into project.lines
let editing = null; // line id being edited
let busy = false;

function status(text, kind) {
  const el = $("#status");
  el.textContent = text || "";
  el.className = kind || "";
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.error || res.status + " " + res.statusText);
  return data;
}

const fmt = (s) => {
  const m = Math.floor(s / 60);
  return m + ":" + (s - m * 60).toFixed(2).padStart(5, "0");
};
const isBad = (l) => l.warnings.some((w) => w.kind === "overflow" || w.kind === "beyond_window" || w.kind === "cut_at_video_end" || w.kind === "synthesis_failed");
const warnText = (w) => w.kind.replace(/_/g, " ") + (w.seconds !== undefined ? " " + w.seconds.toFixed(2) + " s" : "");

function render() {
  const p = project;
  $("#video-name").textContent = p.video;
  const s = p.summary;
  $("#summary").textContent = `${s.lines_fitted} of ${s.lines} lines fitted · speed max ${s.max_speed.toFixed(2)}×, mean ${s.mean_speed.toFixed(2)}× · ${s.lines_above_1_15} above 1.15×, ${s.lines_at_cap} at the cap (${p.max_speed}×) · ${s.overflows} overflow(s)`;
  $("#attention-count").textContent = p.lines.filter((l) => l.attention).length;
  tbody.textContent = "";
  p.lines.forEach((l, i) => {
    const tr = document.createElement("tr");
    tr.className = "line" + (l.attention ? " attention" : "") + (i === selected ? " selected" : "");
    tr.dataset.id = l.id;
    tr.dataset.index = i;
    const cells = [
      ["id", String(l.id)],
      ["time", fmt(l.start) + " – " + fmt(l.end)],
      ["text", l.text],
      ["who", (l.speaker ? l.speaker + " · " : "") + l.voice],
      ["speed" + (isBad(l) ? " bad" : l.speed > 1.15 ? " fast" : ""), l.speed.toFixed(2) + "×"],
      ["warnings", ""],
    ];
    for (const [cls, text] of cells) {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
    }
    for (const w of l.warnings) {
      const span = document.createElement("span");
      span.className = "warn";
      span.textContent = warnText(w);
      tr.querySelector(".warnings").appendChild(span);
    }
    const td = document.createElement("td");
    const btn = document.createElement("button");
    btn.className = "edit";
    btn.textContent = "Edit";
    btn.addEventListener("click", (e) => { e.stopPropagation(); openEditor(i); });
    td.appendChild(btn);
    tr.appendChild(td);
    tr.addEventListener("click", () => { select(i); playLine(); });
    tbody.appendChild(tr);
  });
  if (editing !== null) {
    const i = p.lines.findIndex((l) => l.id === editing);
    editing = null;
    if (i >= 0) openEditor(i);
  }
  drawStrip();
}

function select(i) {
  if (!project || i < 0 || i >= project.lines.length) return;
  selected = i;
  tbody.querySelectorAll("tr.line.selected").forEach((tr) => tr.classList.remove("selected"));
  const tr = tbody.querySelector(`tr.line[data-index="${i}"]`);
  if (tr) { tr.classList.add("selected"); tr.scrollIntoView({ block: "nearest" }); }
  drawStrip();
}

function playLine() {
  const l = project.lines[selected];
  video.currentTime = Math.max(0, Math.min(l.start, l.played_start) - 0.3);
  video.play().catch(() => {});
}

function step(dir, problemsOnly) {
  const n = project.lines.length;
  for (let k = 1; k <= n; k++) {
    const i = selected + dir * k;
    if (i < 0 || i >= n) break;
    if (!problemsOnly || project.lines[i].attention) { select(i); return; }
  }
}

// ---- the editor ----
function openEditor(i) {
  closeEditor();
  select(i);
  const l = project.lines[i];
  editing = l.id;
  const row = $("#editor-template").content.firstElementChild.cloneNode(true);
  tbody.querySelector(`tr.line[data-index="${i}"]`).after(row);
  $("#edit-text").value = l.text;
  $("#edit-start").value = l.start;
  $("#edit-end").value = l.end;
  $("#edit-speaker").value = l.speaker || "";
  $("#edit-form").addEventListener("submit", (e) => { e.preventDefault(); save(l); });
  $("#edit-cancel").addEventListener("click", closeEditor);
  $("#edit-shorten").addEventListener("click", () => shorten(l));
  $("#edit-text").focus();
}

function closeEditor() {
  const row = tbody.querySelector("tr.editor");
  if (row) row.remove();
  editing = null;
}

async function save(l) {
  const patch = {};
  const text = $("#edit-text").value;
  const start = parseFloat($("#edit-start").value);
  const end = parseFloat($("#edit-end").value);
  const speaker = $("#edit-speaker").value.trim();
  if (text !== l.text) patch.text = text;
  if (start !== l.start) patch.start = start;
  if (end !== l.end) patch.end = end;
  if (speaker !== (l.speaker || "")) patch.speaker = speaker || null;
  if (Object.keys(patch).length === 0) { closeEditor(); return; }
  await run(`Line ${l.id}: saving, re-synthesizing what changed, rendering…`, async () => {
    const started = performance.now();
    const p = await api("PATCH", "/api/lines/" + l.id, patch);
    editing = null;
    update(p);
    const line = p.lines.find((x) => x.id === l.id);
    status(`Line ${l.id} re-rendered in ${((performance.now() - started) / 1000).toFixed(1)} s` + (line ? ` — now ${line.speed.toFixed(2)}×` : ""), "done");
    if (line) select(p.lines.indexOf(line));
  });
}

async function shorten(l) {
  await run(`Line ${l.id}: asking the chat model for a shorter line…`, async () => {
    const r = await api("POST", `/api/lines/${l.id}/shorten`);
    $("#suggestion-text").textContent = r.text;
    $("#suggestion").hidden = false;
    $("#suggestion-accept").onclick = () => { $("#edit-text").value = r.text; $("#suggestion").hidden = true; };
    status("Suggestion ready: use it, then Save.", "done");
  });
}

async function run(label, work) {
  if (busy) { status("Still working on the last request…", "busy"); return; }
  busy = true;
  document.querySelectorAll("button").forEach((b) => (b.disabled = true));
  status(label, "busy");
  try {
    await work();
  } catch (e) {
    status("Error: " + e.message, "error");
  } finally {
    busy = false;
    document.querySelectorAll("button").forEach((b) => (b.disabled = false));
  }
}

// ---- the players: the picture from the video, the voice from the dub track ----
function update(p) {
  const reload = !project || p.version !== project.version;
  project = p;
  render();
  if (reload) {
    const t = video.currentTime;
    dub.src = "/media/dub?v=" + p.version;
    dub.currentTime = t;
    if (!video.paused && !$("#original").checked) dub.play().catch(() => {});
  }
}

function useOriginal() {
  const original = $("#original").checked;
  video.muted = !original;
  if (original) dub.pause();
  else { dub.currentTime = video.currentTime; if (!video.paused) dub.play().catch(() => {}); }
}

video.addEventListener("play", () => { if (!$("#original").checked) { dub.currentTime = video.currentTime; dub.play().catch(() => {}); } });
video.addEventListener("pause", () => dub.pause());
video.addEventListener("seeked", () => { dub.currentTime = video.currentTime; });
video.addEventListener("ratechange", () => { dub.playbackRate = video.playbackRate; });
video.addEventListener("timeupdate", () => {
  if (!dub.paused && Math.abs(dub.currentTime - video.currentTime) > 0.12) dub.currentTime = video.currentTime;
  const t = video.currentTime;
  const playing = project ? project.lines.findIndex((l) => t >= l.start && t < l.end) : -1;
  tbody.querySelectorAll("tr.line.playing").forEach((tr) => tr.classList.remove("playing"));
  if (playing >= 0) { const tr = tbody.querySelector(`tr.line[data-index="${playing}"]`); if (tr) tr.classList.add("playing"); }
  drawStrip();
});

// ---- the strip: 30 s around the playhead, windows against what was played ----
const SPAN = 30;
function viewStart() {
  const l = project.lines[selected];
  const centre = video.paused && l ? l.start : video.currentTime;
  return Math.max(0, Math.min(project.duration - SPAN, centre - SPAN / 3));
}

function drawStrip() {
  if (!project) return;
  for (const c of [strip, overview]) c.width = c.clientWidth * devicePixelRatio;
  const g = strip.getContext("2d");
  const W = strip.width, H = strip.height, t0 = viewStart();
  const x = (t) => ((t - t0) / SPAN) * W;
  g.clearRect(0, 0, W, H);
  g.font = `${10 * devicePixelRatio}px system-ui`;
  project.lines.forEach((l, i) => {
    if (l.end < t0 || l.start > t0 + SPAN) return;
    g.strokeStyle = i === selected ? "#9fc3e6" : "#5b6b7b";
    g.lineWidth = i === selected ? 2 : 1;
    g.strokeRect(x(l.start), 6, x(l.end) - x(l.start), 22);
    g.fillStyle = "#8b96a1";
    g.fillText(String(l.id), x(l.start) + 3, 21);
  });
  const chunks = new Map();
  for (const l of project.lines) {
    const c = chunks.get(l.chunk) || { start: l.played_start, played: l.played, end: l.end, line: l };
    c.end = Math.max(c.end, l.end);
    chunks.set(l.chunk, c);
  }
  for (const c of chunks.values()) {
    const a = c.start, b = c.start + c.played;
    if (b < t0 || a > t0 + SPAN || c.played <= 0) continue;
    g.fillStyle = isBad(c.line) ? "#e5534b" : c.line.speed > 1.15 ? "#e0a030" : "#3fb370";
    const within = Math.min(b, c.end);
    g.fillRect(x(a), 36, Math.max(1, x(within) - x(a)), 22);
    if (b > c.end) {
      // The pause after the window that the line borrowed (or the overflow into the next line).
      g.save();
      g.globalAlpha = 0.45;
      g.fillRect(x(c.end), 36, x(b) - x(c.end), 22);
      g.restore();
    }
  }
  g.fillStyle = "#fff";
  g.fillRect(x(video.currentTime), 0, 2 * devicePixelRatio, H);

  const o = overview.getContext("2d");
  const OW = overview.width, OH = overview.height;
  o.clearRect(0, 0, OW, OH);
  o.fillStyle = "#e5534b";
  for (const l of project.lines) if (l.attention) o.fillRect((l.start / project.duration) * OW, 0, Math.max(1, devicePixelRatio), OH);
  o.strokeStyle = "#9fc3e6";
  o.strokeRect((t0 / project.duration) * OW, 0.5, (SPAN / project.duration) * OW, OH - 1);
  o.fillStyle = "#fff";
  o.fillRect((video.currentTime / project.duration) * OW, 0, 2, OH);
}

strip.addEventListener("click", (e) => {
  const r = strip.getBoundingClientRect();
  video.currentTime = viewStart() + ((e.clientX - r.left) / r.width) * SPAN;
});
overview.addEventListener("click", (e) => {
  const r = overview.getBoundingClientRect();
  video.currentTime = ((e.clientX - r.left) / r.width) * project.duration;
});
window.addEventListener("resize", drawStrip);

// ---- controls and keys ----
$("#attention").addEventListener("change", (e) => document.body.classList.toggle("filtered", e.target.checked));
$("#original").addEventListener("change", useOriginal);
$("#export").addEventListener("click", () =>
  run("Exporting: mixing over the original audio and muxing…", async () => {
    const r = await api("POST", "/api/export");
    status("Exported " + r.path, "done");
  }));

document.addEventListener("keydown", (e) => {
  if (!project || e.target.closest("input, textarea")) {
    if (e.key === "Escape") closeEditor();
    return;
  }
  const keys = {
    n: () => step(1, true), p: () => step(-1, true), j: () => step(1, false), k: () => step(-1, false),
    Enter: playLine, e: () => openEditor(selected),
    " ": () => (video.paused ? video.play().catch(() => {}) : video.pause()),
    a: () => { const c = $("#attention"); c.checked = !c.checked; c.dispatchEvent(new Event("change")); },
    o: () => { const c = $("#original"); c.checked = !c.checked; useOriginal(); },
    Escape: closeEditor,
  };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});

(async () => {
  try {
    video.src = "/media/video";
    video.muted = true;
    update(await api("GET", "/api/project"));
    status(`${project.lines.length} lines. Click a line to play it; Edit to fix it.`);
  } catch (e) {
    status("Error: " + e.message, "error");
  }
})();
