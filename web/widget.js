/* faqbot chat widget: one <script> tag, data-* options (README "Chat widget"). */
(() => {
"use strict";
if (window.faqbotWidget) return;
const me = document.currentScript || [...document.querySelectorAll("script[src*='widget.js']")].pop();
if (!me) return;
const d = me.dataset;
const base = new URL(me.src, location.href);
const api = (d.api || base.origin).replace(/\/+$/, "");
const KEY = "faqbot:" + api;
const starters = d.starters && d.starters.split("|").map((s) => s.trim()).filter(Boolean).slice(0, 4);
const T = {
  greet: "Hi! What would you like to know?",
  network: "I couldn't reach the clinic's assistant. Please check your connection and try again.",
  cors: "Sorry, this chat isn't set up for this website yet, so it can't answer here.",
  timeout: "That took too long to answer. Please try again.",
  server: "Something went wrong on our side. Please try again in a moment.",
  busy: "You're sending messages a little quickly. Please wait {wait}, then try again.",
  client: "Sorry, I couldn't send that message.",
};
const I = {
  chat: "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z",
  x: "M18 6 6 18M6 6l12 12",
  send: "M22 2 11 13M22 2l-7 20-4-9-9-4z",
  up: "M7 10v12M15 5.9 14 10h5.8a2 2 0 0 1 2 2.3l-1.4 8a2 2 0 0 1-2 1.7H4a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h2.8a2 2 0 0 0 1.8-1.1L12 2a3.1 3.1 0 0 1 3 3.9z",
  warn: "M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0zM12 9v4M12 17h.01",
};
let state = null;
let busy = false;
let ready = null;
let opener = null; // the page's element that opened the chat, to give focus back to
let root, panel, launcher, title, log, typing, chips, scroller, input, sendBtn;

// h("div.msg.bot", { attr: value, onclick: fn }, ...children)
function h(tag, attrs, ...kids) {
  const [name, ...cls] = tag.split(".");
  const el = document.createElement(name);
  if (cls.length) el.className = cls.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v != null) el.setAttribute(k, v);
  }
  // append() makes Text nodes: no server or visitor text is ever parsed as HTML.
  el.append(...kids.flat().filter(Boolean));
  return el;
}
function svg(path, cls = "") {
  const NS = "http://www.w3.org/2000/svg";
  const s = document.createElementNS(NS, "svg");
  const attrs = { viewBox: "0 0 24 24", "aria-hidden": "true", class: cls };
  for (const k in attrs) s.setAttribute(k, attrs[k]);
  s.append(document.createElementNS(NS, "path"));
  s.firstChild.setAttribute("d", path);
  return s;
}
const set = (el, k, v) => el.setAttribute(k, v);
const full = matchMedia("(max-width:480px),(max-height:480px)"); // the panel fills the screen (widget.css)
const load = () => {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    return s && s.log ? s : null;
  } catch (e) {} // blocked storage
};
const save = () => {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(state));
  } catch (e) {} // full or blocked: the chat still works
};
const push = (e) => state.log.push(e) > 80 && state.log.shift();
const conf = () => {
  const i = state?.info || {};
  return { title: d.title || i.name || "Ask us", greeting: d.greeting || i.greeting || T.greet, starters: starters || i.starters || [], contact: i.contact || {} };
};
const safeUrl = (u) => {
  try {
    const x = new URL(u, location.href);
    return /^https?:$/.test(x.protocol) ? x.href : null;
  } catch (e) {} // not a URL
};

async function request(path, body) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), body ? 20000 : 8000);
  const opts = { credentials: "omit", signal: ctl.signal };
  if (body) Object.assign(opts, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  try {
    const r = await fetch(api + path, opts).catch(async () => {
      throw { kind: ctl.signal.aborted ? "timeout" : (await refused()) ? "cors" : "network" };
    });
    const data = await r.json().catch(() => null);
    if (r.status === 429) throw { kind: "busy", wait: parseInt(r.headers.get("Retry-After"), 10) };
    if (!r.ok || !data) throw { kind: r.status < 500 ? "client" : "server", message: data?.error?.message };
    return data;
  } finally {
    clearTimeout(timer);
  }
}

// A failed fetch is a CORS refusal, not a network failure, when the API's origin answers a no-cors
// request but not a CORS one: the API doesn't allow this page's origin (FAQBOT_CORS_ORIGINS).
let told = false;
async function refused() {
  const o = { credentials: "omit", cache: "no-store", signal: AbortSignal.timeout(5000) };
  if (new URL(api).origin === location.origin || (await fetch(api + "/api/info", o).then(() => 1, () => 0))) return false;
  if (!(await fetch(api + "/healthz", { ...o, method: "HEAD", mode: "no-cors" }).then(() => 1, () => 0))) return false;
  if (!told) console.error(`faqbot: ${api} refuses requests from this page's origin. On the faqbot server set FAQBOT_CORS_ORIGINS=${location.origin} (add it, comma-separated, to any origins already there) and restart it.`);
  return (told = true);
}

function build() {
  const host = document.createElement("faqbot-widget");
  if (d.accent && CSS.supports("color", d.accent)) host.style.setProperty("--fb-accent", d.accent);
  // The service (its articles, replies and these strings) is English, whatever the host page's language.
  root = h("div.fb." + (d.position === "left" ? "left" : "right"), { hidden: "", lang: "en" });
  // Hidden until styled, so the host page never flashes an unstyled widget.
  const css = h("link", { rel: "stylesheet", href: new URL("widget.css?v=1", base).href });
  css.onload = () => (root.hidden = false);
  // Unstyled, it would spill raw buttons and text into the page: stay hidden, and tell the developer why.
  css.onerror = () => console.error(`faqbot: the chat stays hidden because its stylesheet ${css.href} didn't load. If this page has a Content-Security-Policy, add ${base.origin} to its style-src.`);
  title = h("h2.title", { id: "fb-title" }, conf().title);
  log = h("div.log", { role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  typing = h("div.typing", { hidden: "", "aria-hidden": "true" }, h("span"), h("span"), h("span"));
  chips = h("div.chips", { role: "group", "aria-label": "Suggested questions" });
  scroller = h("div.scroll", null, log, typing, chips);
  input = h("input.in", { id: "fb-in", autocomplete: "off", enterkeyhint: "send", maxlength: 1000, placeholder: "Type your question…" });
  sendBtn = h("button.icon.send", { "aria-label": "Send" }, svg(I.send));
  // One name, open or closed (the X in the header is "Close chat"); aria-expanded tells the state.
  const label = d.label || "Ask a question";
  launcher = h("button.launch", { "aria-expanded": "false", "aria-controls": "fb-panel", "aria-label": label, onclick: () => (state?.open ? close() : open(true)) },
    svg(I.chat, "ic-c"), svg(I.x, "ic-x"), h("span", null, label));
  panel = h("section.panel", { id: "fb-panel", role: "dialog", "aria-labelledby": "fb-title", tabindex: -1 },
      // A plain element: a <header> here would be a second banner landmark on the host page.
      h("div.head", null,
        h("div.ht", null, title, h("p.sub", null, "Automated answers from our articles")),
        h("button.icon.x", { "aria-label": "Close chat", onclick: () => close() }, svg(I.x))),
      scroller,
      h("form.form", { onsubmit: (ev) => (ev.preventDefault(), send(input.value)) },
        h("label.sr", { for: "fb-in" }, "Your question"), input, sendBtn));
  root.append(panel, launcher);
  root.addEventListener("keydown", (ev) => {
    if (!state?.open) return;
    if (ev.key === "Escape") ev.stopPropagation(), close();
    // Full screen, the chat hides the page: Tab cycles inside it (a modal dialog). Elsewhere it is
    // non-modal: Tab from Send goes on to the launcher beside it (which closes it), then to the page.
    if (ev.key !== "Tab" || !full.matches) return;
    const els = [...panel.querySelectorAll("button,input,summary,a[href]")].filter((e) => e.getClientRects().length);
    const at = root.getRootNode().activeElement;
    if (ev.shiftKey ? at === els[0] || at === panel : at === els.at(-1)) ev.preventDefault(), els.at(ev.shiftKey ? -1 : 0).focus();
  });
  full.addEventListener("change", () => set(panel, "aria-modal", full.matches));
  host.attachShadow({ mode: "open" }).append(css, root);
  document.body.append(host);
}

function setBusy(on) {
  busy = on;
  typing.hidden = !on;
  set(sendBtn, "aria-disabled", on);
  if (on) scroller.scrollTop = scroller.scrollHeight;
}
// Announce replies only: the visitor's own line is added while the live region is off.
const quiet = (el) => (set(log, "aria-live", "off"), log.append(el));
function say(el) {
  set(log, "aria-live", "polite");
  log.append(el);
  // Scroll to the start of the exchange: the question stays in view above a long reply.
  const q = el.previousSibling;
  scroller.scrollTop = (q && q.matches(".user") ? q : el).offsetTop - 12;
}
// Touch screens: the dialog, not the input, so the keyboard doesn't pop up over the reply.
const home = () => (matchMedia("(pointer: coarse)").matches ? panel : input);
// Before removing buttons that may hold focus, move it on: focus lost to <body> would stop Escape working.
const keepFocus = (el) => el.contains(root.getRootNode().activeElement) && home().focus({ preventScroll: true });
function showChips(list) {
  keepFocus(chips);
  chips.replaceChildren(...(list || []).slice(0, 4).map((q) => h("button.chip", { onclick: () => send(q) }, q)));
}
function lastChips() {
  const e = state.log.at(-1);
  showChips(!e ? [] : e.k === "greet" ? conf().starters : e.r?.suggestions);
}

function render(e) {
  if (e.k === "user") return h("div.msg.user", null, h("span.sr", null, "You: "), e.text);
  if (e.k === "greet") return h("div.msg.bot", null, conf().greeting);
  const r = e.r;
  const t = r.type;
  const ps = t === "answer" && r.passages && r.passages.length ? r.passages : null;
  const meta = h("div.meta", null, r.disclaimer && disclaimer(r.disclaimer), (t === "answer" || t === "fallback") && votes(e));
  // No role="alert" on urgent replies: inside the live log it made screen readers announce them twice.
  return h("div.msg.bot." + t, null,
    h("span.sr", null, "Assistant: "),
    t === "urgent" && h("p.uh", null, svg(I.warn), "Urgent: get help now"),
    r.caution && h("p.caution", null, svg(I.warn), h("span", null, h("span.sr", null, "Caution: "), r.caution)),
    // The API also puts the caution atop the answer; show it once, in its box.
    h("p.txt", null, r.caution && r.answer.startsWith(r.caution) ? r.answer.slice(r.caution.length).trim() : r.answer),
    ps && sources(ps),
    t === "urgent" && r.actions?.length && h("div.contact", null, r.actions.map((a) =>
      h("a.btn.call", { href: "tel:" + String(a.tel).replace(/[^\d+]/g, "") }, a.label))),
    t === "fallback" && contact(r.contact || conf().contact),
    meta.firstChild && meta);
}

function sources(ps) {
  const first = {};
  for (const p of ps) first[p.source?.title || "Clinic article"] ??= p;
  const ts = Object.keys(first);
  return h("div.src", null, h("p", null, ts[1] ? "Sources: " : "Source: ", ts.flatMap((t, i) => [i ? " · " : "", link(first[t], t)])),
    h("details", null, h("summary.link", null, h("span.show", null, "Show"), h("span.hide", null, "Hide"), " sources"), ps.map((p) => {
      const s = p.source || {};
      return h("blockquote", null, h("p.cite", null, link(p, (s.title || "") + (s.heading ? " › " + s.heading : ""))), p.text);
    })));
}
// The article a passage comes from, in a new tab: its public page, or the service's own (a path on the API).
function link(p, text) {
  const u = p.source?.url, href = u && safeUrl(u[0] === "/" ? api + u : u);
  return href ? h("a.art", { href, target: "_blank", rel: "noopener" }, text, h("span.sr", null, " (opens in a new tab)")) : text;
}

function contact(c) {
  const book = safeUrl(c?.booking_url);
  const links = [
    book && h("a.btn", { href: book, target: "_blank", rel: "noopener noreferrer" }, "Book online", h("span.sr", null, " (opens in a new tab)")),
    c?.phone && h("a.btn2", { href: "tel:" + String(c.phone).replace(/[^\d+]/g, "") }, "Call " + c.phone),
    c && /^[^\s@<>:]+@[^\s@<>:]+$/.test(c.email) && h("a.btn2", { href: "mailto:" + c.email }, "Email us"),
  ];
  return links.some(Boolean) ? h("div.contact", null, links) : null;
}

function disclaimer(text) {
  // The first sentence shows on every reply; the rest waits behind a disclosure.
  const m = text.match(/^(.+?[.!?])\s+(.+)$/s);
  return m ? h("details.disc", null, h("summary", null, m[1]), h("p", null, m[2])) : h("p.disc", null, text);
}

function votes(e) {
  const status = h("span.vs", { role: "status" });
  const btn = (v, label) => h("button.icon.vb." + v, { "aria-label": label, "aria-pressed": e.vote === v, onclick: () => vote(v) }, svg(I.up));
  const up = btn("up", "Helpful");
  const down = btn("down", "Not helpful");
  const pressed = (v) => (set(up, "aria-pressed", v === "up"), set(down, "aria-pressed", v === "down"));
  async function vote(v) {
    if (e.vote === v) return;
    pressed(v);
    try {
      await request("/api/feedback", { session_id: e.r.session_id || state.sid, reply_id: e.r.reply_id, vote: v });
      e.vote = v;
      save();
      status.textContent = "Thanks for your feedback.";
    } catch (x) {
      pressed(e.vote);
      status.textContent = "Couldn't send your feedback. Please try again.";
    }
  }
  return h("div.vote", { role: "group", "aria-label": "Was this helpful?" }, up, down, status);
}

function failed(err, text, userEl) {
  if (err.kind === "client") {
    // Resending cannot help: hand the text back to edit.
    userEl.remove();
    input.value = text;
    return say(h("div.msg.bot.err", null, err.message || T.client));
  }
  const phone = conf().contact.phone;
  const retry = err.kind !== "cors" && h("button.btn", { onclick: () => (keepFocus(el), el.remove(), ask(text, userEl)) }, "Retry");
  const wait = err.wait > 0 ? `${err.wait} second${err.wait > 1 ? "s" : ""}` : "a moment";
  const more = !phone || err.kind === "busy" ? "" : err.kind === "cors" ? ` Please call us on ${phone}.` : ` If it keeps happening, call us on ${phone}.`;
  const el = h("div.msg.bot.err", null, h("p", null, T[err.kind].replace("{wait}", wait) + more), retry);
  say(el);
}

async function ask(text, userEl) {
  setBusy(true);
  showChips([]);
  const started = Date.now();
  let res, err;
  try {
    res = await request("/api/chat", { message: text, session_id: state.sid || undefined });
    if (typeof res.answer !== "string") throw { kind: "server" };
  } catch (x) {
    err = x.kind ? x : { kind: "server" };
  }
  // An instant reply makes the dots flicker; hold them briefly.
  await new Promise((ok) => setTimeout(ok, 350 - (Date.now() - started)));
  setBusy(false);
  if (err) return failed(err, text, userEl);
  state.sid = res.session_id || state.sid;
  const e = { k: "bot", r: res };
  push({ k: "user", text });
  push(e);
  save();
  say(render(e));
  showChips(res.suggestions);
}

function send(text) {
  text = text.trim();
  if (!text || busy || !state) return;
  input.value = "";
  log.querySelectorAll(".err").forEach((x) => (keepFocus(x), x.remove()));
  const userEl = render({ k: "user", text });
  quiet(userEl);
  ask(text, userEl);
}

async function setup() {
  if (!state.info) {
    setBusy(true);
    try {
      const { name, greeting, starters, contact } = await request("/api/info");
      state.info = { name, greeting, starters, contact };
    } catch (e) {} // defaults still greet; a broken API shows when the visitor sends
    setBusy(false);
  }
  title.textContent = conf().title;
  if (!state.log.length) {
    push({ k: "greet" });
    say(render({ k: "greet" }));
    lastChips();
  }
  save();
}

function open(byVisitor, from) {
  if (byVisitor && !state?.open) {
    const el = from || document.activeElement;
    opener = el && el !== document.body && el !== root.getRootNode().host ? el : null;
  }
  // Nothing is stored or requested until the visitor opens the chat.
  state = state || { sid: null, info: null, log: [] };
  state.open = true;
  save();
  root.classList.add("open");
  set(panel, "aria-modal", full.matches);
  set(launcher, "aria-expanded", true);
  // On touch screens the keyboard would hide the starter questions.
  if (byVisitor) home().focus({ preventScroll: true });
  ready = ready || setup();
}

function close() {
  if (state) (state.open = false), save();
  root.classList.remove("open");
  set(launcher, "aria-expanded", false);
  // Back to the page's button that opened it (if still there and shown), unless the visitor is on the launcher.
  const sr = root.getRootNode();
  const back = sr.activeElement !== launcher && opener?.isConnected && opener.getClientRects().length ? opener : launcher;
  opener = null;
  back.focus({ preventScroll: back === launcher });
}

function init() {
  build();
  state = load();
  if (state) {
    // Rebuilt while the panel is hidden, so screen readers don't announce it again.
    title.textContent = conf().title;
    log.append(...state.log.map((e) => render(e)));
    lastChips();
    if (state.open) open(false);
    requestAnimationFrame(() => (scroller.scrollTop = scroller.scrollHeight));
  }
  window.faqbotWidget = { open: () => open(true), close };
  // Host buttons with data-faqbot-open open the chat: no inline script, so strict CSPs work.
  document.addEventListener("click", (ev) => {
    const el = ev.target.closest?.("[data-faqbot-open]");
    if (el) open(true, el);
  });
}

window.faqbotWidget = { open() {}, close() {} };
if (document.body) init();
else document.addEventListener("DOMContentLoaded", init);
})();
