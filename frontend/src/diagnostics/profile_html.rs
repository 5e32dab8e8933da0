//! The HTML task-stream page of a [`Profile`](super::Profile): one self-contained file (inline
//! CSS, inline script, data as embedded JSON; nothing loaded from the network) with one lane
//! per thread, a colour per op, a tooltip per task, a legend and the totals in the title.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use super::json;
use super::profile::{RunRecord, TaskRecord, thread_name};
use kiln_ir::dot::palette_colour;
use kiln_ir::task_graph::fmt_bytes;

/// Per-op figures for the legend.
struct OpSummary {
    name: &'static str,
    colour: &'static str,
    count: usize,
    busy: Duration,
    bytes: usize,
}

/// The page for `tasks` (recorded across `runs`).
pub(crate) fn render(tasks: &[TaskRecord], runs: &[RunRecord]) -> String {
    let mut threads: Vec<usize> = tasks.iter().map(|t| t.thread).collect();
    threads.sort_unstable();
    threads.dedup();
    let lane_of: HashMap<usize, usize> = threads.iter().enumerate().map(|(i, &t)| (t, i)).collect();

    // Ops get colours in the order they first ran.
    let mut by_start: Vec<&TaskRecord> = tasks.iter().collect();
    by_start.sort_by_key(|t| (t.start, t.thread));
    let mut ops: Vec<OpSummary> = Vec::new();
    let mut op_index: HashMap<&'static str, usize> = HashMap::new();
    for t in &by_start {
        let k = *op_index.entry(t.op).or_insert_with(|| {
            ops.push(OpSummary {
                name: t.op,
                colour: palette_colour(ops.len()),
                count: 0,
                busy: Duration::ZERO,
                bytes: 0,
            });
            ops.len() - 1
        });
        let s = &mut ops[k];
        s.count += 1;
        s.busy += t.duration();
        s.bytes = s.bytes.saturating_add(t.bytes);
    }

    let first =
        by_start.first().map_or(Duration::ZERO, |t| t.start).min(runs.first().map_or(Duration::MAX, |r| r.start));
    let last = tasks.iter().map(|t| t.end).chain(runs.iter().filter_map(|r| r.end)).max().unwrap_or(Duration::ZERO);
    let wall = last.saturating_sub(first);
    let busy: Duration = ops.iter().map(|o| o.busy).sum();
    let bytes: usize = ops.iter().map(|o| o.bytes).fold(0, usize::saturating_add);
    let lanes = threads.len().max(1);
    let utilisation = if wall.is_zero() { 0.0 } else { busy.as_secs_f64() / (wall.as_secs_f64() * lanes as f64) };
    let failed = tasks.iter().filter(|t| t.failed).count();
    let mut title = format!(
        "kiln profile: {} tasks on {} threads in {}, {} produced, {:.0}% busy",
        tasks.len(),
        threads.len(),
        fmt_duration(wall),
        fmt_bytes(bytes),
        utilisation * 100.0
    );
    if runs.len() > 1 {
        let _ = write!(title, ", {} runs", runs.len());
    }
    if failed > 0 {
        let _ = write!(title, ", {failed} failed");
    }

    // Tasks as compact rows sorted by lane then start: [lane, start µs, duration µs, op, bytes, key, failed].
    let mut rows: Vec<&TaskRecord> = tasks.iter().collect();
    rows.sort_by_key(|t| (lane_of[&t.thread], t.start));
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let mut data = String::from("{\"lanes\":[");
    for (i, &t) in threads.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        json::push_str(&mut data, &thread_name(t));
    }
    data.push_str("],\"ops\":[");
    for (i, o) in ops.iter().enumerate() {
        data.push_str(if i > 0 { ",{\"name\":" } else { "{\"name\":" });
        json::push_str(&mut data, o.name);
        data.push_str(",\"colour\":");
        json::push_str(&mut data, o.colour);
        data.push('}');
    }
    data.push_str("],\"end\":");
    json::push_micros(&mut data, micros(wall));
    data.push_str(",\"tasks\":[");
    for (i, t) in rows.iter().enumerate() {
        let _ = write!(data, "{}\n[{},", if i > 0 { "," } else { "" }, lane_of[&t.thread]);
        json::push_micros(&mut data, micros(t.start.saturating_sub(first)));
        data.push(',');
        json::push_micros(&mut data, micros(t.duration()));
        let _ = write!(data, ",{},{},", op_index[t.op], t.bytes);
        // The JSON escaper writes `<\/` for `</`, so a key cannot end the script element early.
        json::push_str(&mut data, &t.key);
        let _ = write!(data, ",{}]", u8::from(t.failed));
    }
    data.push_str("]}");

    let mut legend = String::new();
    for o in &ops {
        let _ = writeln!(
            legend,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            o.colour,
            escape(o.name),
            o.count,
            fmt_duration(o.busy),
            fmt_duration(o.busy / o.count.max(1) as u32),
            fmt_bytes(o.bytes)
        );
    }
    PAGE.replace("{{TITLE}}", &escape(&title)).replace("{{LEGEND}}", &legend).replace("{{DATA}}", &data)
}

/// A duration for people: `850 µs`, `12.3 ms`, `4.56 s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// `s` as HTML text.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page template: `{{TITLE}}`, `{{LEGEND}}` (table rows) and `{{DATA}}` (JSON) are filled in.
const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{TITLE}}</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 16px; font-weight: 600; }
#wrap { position: relative; border: 1px solid #ccc; }
canvas { display: block; cursor: crosshair; }
#tip { position: absolute; pointer-events: none; display: none; background: #fff; border: 1px solid #888;
       padding: 4px 8px; white-space: pre; font: 12px/1.4 ui-monospace, monospace; box-shadow: 1px 1px 4px #0003; }
table { border-collapse: collapse; margin-top: 12px; }
td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border: 1px solid #0004; }
.hint { color: #666; }
</style>
</head>
<body>
<h1>{{TITLE}}</h1>
<p class="hint">One lane per thread, a colour per op. Hover a task for its key; scroll to zoom, drag to pan, double-click to reset.</p>
<div id="wrap"><canvas id="stream"></canvas><div id="tip"></div></div>
<table>
<tr><th>op</th><th>tasks</th><th>total time</th><th>mean</th><th>bytes produced</th></tr>
{{LEGEND}}</table>
<script type="application/json" id="data">{{DATA}}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const cv = document.getElementById("stream"), ctx = cv.getContext("2d"), tip = document.getElementById("tip");
const LANE = 26, PAD = 3, LEFT = 100, RIGHT = 12, AXIS = 24;
const lanes = D.lanes.map(() => []);
for (const t of D.tasks) lanes[t[0]].push(t);
let view = [0, Math.max(D.end, 1e-3)], width = 800, drag = null;
function fmtTime(us) {
  if (us < 1000) return us.toFixed(us < 10 ? 2 : 0) + " µs";
  if (us < 1e6) return (us / 1e3).toFixed(us < 1e4 ? 2 : 1) + " ms";
  return (us / 1e6).toFixed(2) + " s";
}
function fmtBytes(b) {
  const u = ["B", "kB", "MB", "GB", "TB"]; let i = 0;
  while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
  return i === 0 ? b + " B" : b.toFixed(1) + " " + u[i];
}
function xOf(t) { return LEFT + (t - view[0]) / (view[1] - view[0]) * (width - LEFT - RIGHT); }
function tOf(x) { return view[0] + (x - LEFT) / (width - LEFT - RIGHT) * (view[1] - view[0]); }
function resize() {
  width = cv.parentElement.clientWidth;
  const h = D.lanes.length * LANE + AXIS, dpr = window.devicePixelRatio || 1;
  cv.width = width * dpr; cv.height = h * dpr; cv.style.width = width + "px"; cv.style.height = h + "px";
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  draw();
}
function draw() {
  const h = D.lanes.length * LANE;
  ctx.clearRect(0, 0, width, h + AXIS);
  ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
  D.lanes.forEach((name, i) => {
    ctx.fillStyle = i % 2 ? "#f6f6f6" : "#fff"; ctx.fillRect(0, i * LANE, width, LANE);
    ctx.fillStyle = "#333"; ctx.fillText(name, 6, i * LANE + LANE / 2);
  });
  ctx.save(); ctx.beginPath(); ctx.rect(LEFT, 0, width - LEFT - RIGHT, h); ctx.clip();
  lanes.forEach((tasks, i) => {
    for (const t of tasks) {
      const x0 = xOf(t[1]), x1 = xOf(t[1] + t[2]);
      if (x1 < LEFT || x0 > width - RIGHT) continue;
      ctx.fillStyle = D.ops[t[3]].colour;
      ctx.fillRect(x0, i * LANE + PAD, Math.max(x1 - x0, 1), LANE - 2 * PAD);
      if (t[6]) { ctx.strokeStyle = "#d00"; ctx.strokeRect(x0, i * LANE + PAD, Math.max(x1 - x0, 1), LANE - 2 * PAD); }
    }
  });
  ctx.restore();
  ctx.strokeStyle = "#999"; ctx.fillStyle = "#333"; ctx.textBaseline = "top";
  const span = view[1] - view[0], raw = span / 8, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
    const x = xOf(t);
    ctx.beginPath(); ctx.moveTo(x, h); ctx.lineTo(x, h + 5); ctx.stroke();
    ctx.fillText(fmtTime(t), x + 2, h + 6);
  }
}
function taskAt(px, py) {
  const lane = Math.floor(py / LANE);
  if (lane < 0 || lane >= lanes.length || px < LEFT) return null;
  const tasks = lanes[lane], t = tOf(px), slack = 2 * (view[1] - view[0]) / (width - LEFT - RIGHT);
  let lo = 0, hi = tasks.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (tasks[mid][1] <= t + slack) lo = mid + 1; else hi = mid; }
  let best = null;
  for (let k = lo - 1; k >= 0 && k >= lo - 64; k--) {
    const c = tasks[k];
    if (c[1] + c[2] + slack >= t && (!best || c[2] > best[2])) best = c;
  }
  return best;
}
cv.addEventListener("mousemove", e => {
  const r = cv.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top;
  if (drag) {
    const dt = (drag.x - px) / (width - LEFT - RIGHT) * (drag.view[1] - drag.view[0]);
    view = [drag.view[0] + dt, drag.view[1] + dt]; draw(); return;
  }
  const t = taskAt(px, py);
  if (!t) { tip.style.display = "none"; return; }
  tip.textContent = t[5] + "\nop: " + D.ops[t[3]].name + "\nthread: " + D.lanes[t[0]] +
    "\nstart: " + fmtTime(t[1]) + "\nduration: " + fmtTime(t[2]) + "\nbytes: " + fmtBytes(t[4]) + (t[6] ? "\nFAILED" : "");
  tip.style.display = "block";
  tip.style.left = Math.min(px + 14, width - tip.offsetWidth - 4) + "px"; tip.style.top = (py + 14) + "px";
});
cv.addEventListener("mouseleave", () => { tip.style.display = "none"; drag = null; });
cv.addEventListener("mousedown", e => { drag = { x: e.clientX - cv.getBoundingClientRect().left, view: view.slice() }; });
window.addEventListener("mouseup", () => { drag = null; });
cv.addEventListener("wheel", e => {
  e.preventDefault();
  const t = tOf(e.clientX - cv.getBoundingClientRect().left), f = e.deltaY > 0 ? 1.25 : 0.8;
  view = [t - (t - view[0]) * f, t + (view[1] - t) * f]; draw();
}, { passive: false });
cv.addEventListener("dblclick", () => { view = [0, Math.max(D.end, 1e-3)]; draw(); });
window.addEventListener("resize", resize);
resize();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::TaskId;

    #[test]
    fn the_page_is_self_contained_and_escapes_its_data() {
        let task = |thread, op: &'static str, key: &str| TaskRecord {
            run: 0,
            id: TaskId(0),
            key: key.to_string(),
            op,
            thread,
            start: Duration::from_micros(10),
            end: Duration::from_micros(30),
            bytes: 1_000,
            failed: false,
        };
        let tasks = [task(0, "add", "add-1(0,)"), task(1, "sum", "</script><b>")];
        let html = render(&tasks, &[]);
        assert!(html.contains("kiln profile: 2 tasks on 2 threads in 20 µs, 2.0 kB produced"), "{html}");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        assert_eq!(html.matches("</script>").count(), 2, "the key cannot close the script early");
        assert!(html.contains("<\\/script><b>"));
        assert!(html.contains("background:#8dd3c7\"></span>add</td>"), "{html}");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(escape("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
