// printserver console: live job list, live job state, actions. No framework, no build step.
"use strict";
const POLL_MS = 2000;
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

function jobsPage() {
  const form = document.getElementById("filters");
  const body = document.getElementById("job-rows");
  let version = null;
  let pages = 1;
  const filter = () => Object.fromEntries(new FormData(form));
  // what may show in the address bar: never the patient ID (nor free text, which may hold a name)
  const shareable = () => { const f = filter(); delete f.identity; delete f.text; return new URLSearchParams(f).toString(); };
  function row(j) {
    const outs = j.outputs.map((o) => `<span class="out out-${esc(o.state)}" title="${esc(o.detail)}">${esc(o.output)}: ${esc(o.state)}</span>`).join(" ");
    const films = `${j.films} × ${esc(j.film_size || "?")} ${esc(j.layout)}`;
    return `<tr data-job="${esc(j.id)}"><td>${esc(j.created.replace("T", " ").slice(0, 19))}</td><td>${esc(j.printer)}</td>` +
      `<td>${esc(j.calling_ae)}</td><td>${films}</td><td>${j.copies}</td>` +
      `<td class="state state-${esc(j.state)}">${esc(j.state)}</td><td>${outs}</td>` +
      `<td>${esc(j.patient_id)}</td><td><a href="/jobs/${encodeURIComponent(j.id)}">${esc(j.id.slice(-12))}</a></td></tr>`;
  }
  async function load(force) {
    const query = filter();
    if (!force && version !== null) query.since = version;
    let data;
    try {
      const r = await fetch("/api/jobs/query", {method: "POST", body: JSON.stringify(query),
        headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf()}});
      if (!r.ok) throw new Error(r.status);
      data = await r.json();
      document.getElementById("live").textContent = "live";
    } catch (e) {
      document.getElementById("live").textContent = "not connected";
      return;
    }
    if (data.unchanged) return;
    version = data.version;
    pages = data.pages;
    body.innerHTML = data.jobs.length ? data.jobs.map(row).join("") : '<tr><td colspan="9" class="muted">No job.</td></tr>';
    document.getElementById("page-info").textContent = `page ${data.page} of ${data.pages} · ${data.total} jobs`;
  }
  form.addEventListener("change", () => { form.page.value = 1; load(true); history.replaceState(null, "", `?${shareable()}`); });
  form.addEventListener("submit", (e) => { e.preventDefault(); load(true); });
  document.getElementById("prev").onclick = () => { form.page.value = Math.max(1, +form.page.value - 1); load(true); };
  document.getElementById("next").onclick = () => { form.page.value = Math.min(pages, +form.page.value + 1); load(true); };
  load(true);
  setInterval(() => load(false), POLL_MS);
}

function jobPage() {
  const summary = document.getElementById("job-summary");
  const id = summary.dataset.job;
  setInterval(async () => {
    const r = await fetch(`/api/jobs/${encodeURIComponent(id)}`);
    if (!r.ok) return;
    const j = await r.json();
    const previews = String(j.previews.length);
    if (previews !== summary.dataset.previews || j.state !== summary.dataset.state
        || String(j.transcripts.length) !== String(document.querySelectorAll("section.transcript").length)) {
      location.reload();
    }
  }, POLL_MS);
  document.querySelectorAll("a.film").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    const fig = document.getElementById("large-view");
    fig.querySelector("img").src = a.dataset.large;
    fig.querySelector("figcaption").textContent = a.textContent.trim();
    fig.hidden = false;
    fig.scrollIntoView();
  }));
}

function actions() {
  document.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    const out = document.getElementById("action-result");
    out.textContent = `${b.dataset.action}…`;
    const printer = document.getElementById("reprint-printer");
    const body = b.dataset.action === "reprint" && printer ? JSON.stringify({printer: printer.value}) : undefined;
    const r = await fetch(`/api/jobs/${encodeURIComponent(b.dataset.job)}/${b.dataset.action}`,
      {method: "POST", body, headers: {"X-CSRF-Token": csrf(), "Content-Type": "application/json"}});
    const answer = await r.json();
    out.textContent = answer.message || answer.error;
    if (answer.new_job) {
      out.append(" ");
      const a = Object.assign(document.createElement("a"), {href: `/jobs/${encodeURIComponent(answer.new_job)}`, id: "new-job"});
      a.textContent = "open the new job";
      out.append(a);
    }
    b.disabled = false;
  }));
}

function logout() {
  const b = document.getElementById("logout");
  if (b) b.addEventListener("click", async () => {
    await fetch("/logout", {method: "POST", headers: {"X-CSRF-Token": csrf()}});
    location.href = "/login";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  logout();
  const page = document.body.dataset.page;
  if (page === "jobs") jobsPage();
  if (page === "job") jobPage();
  // an association still open, or the list while one is: look again shortly (its snapshot grows each second)
  if ((page === "association" || page === "associations") && document.querySelector("[data-open], span.open")) {
    setTimeout(() => location.reload(), POLL_MS);
  }
  actions();
});
