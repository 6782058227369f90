// The board (一屏知全局): sections from /api/board, live over Server-Sent Events, actions
// posted with an idempotency key so that a double tap or a retry decides once.
"use strict";

const TEXT = {
  zh: {
    title: "一屏知全局",
    signedOut: "尚未登录。请在聊天中向值班助手发送 !全局 或 !推送，然后打开收到的链接。",
    live: "实时",
    offline: "离线",
    stale: "离线：显示 {time} 的数据",
    empty: "暂无",
    sections: { emergency: "应急", approvals: "审批", tasks: "督办", meetings: "会议", duty: "值班", notices: "通知" },
    actions: { approve: "同意", reject: "驳回", ack: "确认收到", progress: "报进度", done: "完成", rsvp_yes: "参加", rsvp_no: "请假" },
    opinion: "意见（可不填）",
    reason: "理由（必填）",
    note: "说明（可不填）",
    percent: "进度 %",
    submit: "确定",
    cancel: "取消",
    left: "剩 {t}",
    late: "超时 {t}",
    days: "{n}天",
    hours: "{n}小时",
    minutes: "{n}分",
    seconds: "{n}秒",
    sending: "提交中…",
    network: "网络中断，未能提交，请稍后再点一次（不会重复）。",
    widgetDenied: "挂件未获准确认您的身份。请在 Element 中允许本挂件验证身份，然后重新打开。",
  },
  en: {
    title: "Board",
    signedOut: "Not signed in. Send !board or !push to Zhiban in chat, then open the link you receive.",
    live: "Live",
    offline: "Offline",
    stale: "Offline: as of {time}",
    empty: "Nothing here",
    sections: { emergency: "Emergency", approvals: "Approvals", tasks: "Tasks", meetings: "Meetings", duty: "Duty", notices: "Notices" },
    actions: { approve: "Approve", reject: "Reject", ack: "Acknowledge", progress: "Progress", done: "Done", rsvp_yes: "Attend", rsvp_no: "Leave" },
    opinion: "Opinion (optional)",
    reason: "Reason (required)",
    note: "Note (optional)",
    percent: "Progress %",
    submit: "OK",
    cancel: "Cancel",
    left: "{t} left",
    late: "{t} late",
    days: "{n} d",
    hours: "{n} h",
    minutes: "{n} min",
    seconds: "{n} s",
    sending: "Sending…",
    network: "Network lost; nothing was sent twice. Tap again in a moment.",
    widgetDenied: "The widget was not allowed to verify who you are. Allow it in Element, then reopen it.",
  },
};

// Actions that ask for words first; the rest go with one tap.
const FORMS = {
  approve: [{ name: "opinion", label: "opinion" }],
  reject: [{ name: "opinion", label: "reason", required: true }],
  progress: [{ name: "percent", label: "percent", type: "number" }, { name: "opinion", label: "note" }],
  done: [{ name: "opinion", label: "note" }],
  rsvp_no: [{ name: "opinion", label: "reason" }],
};
const CACHE = "zhiban-board-v1";
const RETRY = 2000;

let lang = localStorage.getItem("lang") === "en" ? "en" : "zh";
let snapshot = null;
let offset = 0; // server clock minus this phone's clock
let source = null;
let stale = false;
const keys = new Map(); // "kind ref" -> the idempotency key of an action not yet answered
const forms = new Map(); // "kind ref" -> an open form, kept across live updates

// Inside Element, as a Matrix widget: no cookie reaches a framed page, so the page asks its
// client for an OpenID token over the widget API (postMessage), trades it at the server for a
// bearer token and keeps that in memory only.
const WIDGET = location.pathname === "/board/widget";
const widgetParams = new URLSearchParams(location.search);
const parentOrigin = (() => {
  try {
    return new URL(widgetParams.get("parentUrl") || "").origin;
  } catch {
    return "*"; // the request carries nothing secret; answers are taken from our parent only
  }
})();
let bearer = null;
let signingIn = null;
const widgetRequests = new Map(); // requestId -> resolve, for fromWidget requests
let openidWaiting = null; // resolve for a get_openid the user is still being asked about

function fromParent(event) {
  return event.source === window.parent && (parentOrigin === "*" || event.origin === parentOrigin);
}

function onWidgetMessage(event) {
  const message = event.data;
  if (!fromParent(event) || !message || typeof message !== "object") return;
  if (message.api === "fromWidget" && message.response && widgetRequests.has(message.requestId)) {
    widgetRequests.get(message.requestId)(message.response);
    widgetRequests.delete(message.requestId);
    return;
  }
  if (message.api !== "toWidget" || message.response) return;
  let response = {};
  if (message.action === "capabilities") response = { capabilities: [] };
  if (message.action === "supported_api_versions") response = { supported_versions: ["0.0.1", "0.0.2"] };
  if (message.action === "openid_credentials" && openidWaiting) {
    openidWaiting(message.data || {});
    openidWaiting = null;
  }
  window.parent.postMessage({ ...message, response }, event.origin);
}

function askParent(action, data) {
  const requestId = `zhiban-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve) => {
    widgetRequests.set(requestId, resolve);
    window.parent.postMessage(
      { api: "fromWidget", widgetId: widgetParams.get("widgetId") || "", requestId, action, data },
      parentOrigin,
    );
  });
}

async function openidToken() {
  let answer = await askParent("get_openid", {});
  // "request": the client asks the person first and sends openid_credentials afterwards.
  if (answer && answer.state === "request") answer = await new Promise((resolve) => (openidWaiting = resolve));
  if (!answer || answer.state !== "allowed" || !answer.access_token) return null;
  return answer;
}

async function widgetSignIn() {
  if (window.parent === window) return false; // opened on its own: no client to ask
  const credentials = await openidToken();
  if (!credentials) return false;
  const response = await fetch("/api/board/widget-session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ access_token: credentials.access_token, matrix_server_name: credentials.matrix_server_name }),
  });
  if (!response.ok) return false;
  bearer = (await response.json()).access_token;
  return Boolean(bearer);
}

function signIn() {
  if (!signingIn) signingIn = widgetSignIn().finally(() => (signingIn = null));
  return signingIn;
}

// fetch with the widget's bearer token; one new sign-in when the token has run out.
async function call(url, options = {}) {
  if (!WIDGET) return fetch(url, { credentials: "same-origin", ...options });
  if (!bearer && !(await signIn())) return new Response("{}", { status: 401 });
  const send = () =>
    fetch(url, { ...options, credentials: "omit", headers: { ...(options.headers || {}), Authorization: `Bearer ${bearer}` } });
  let response = await send();
  if (response.status === 401 && (await signIn())) response = await send();
  return response;
}

function t(key, params) {
  let value = TEXT[lang][key] ?? TEXT.zh[key] ?? key;
  for (const [name, v] of Object.entries(params || {})) value = value.replace(`{${name}}`, v);
  return value;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function span(text, className) {
  return el("span", { className, textContent: text });
}

function duration(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return t("days", { n: d }) + (h ? t("hours", { n: h }) : "");
  if (h) return t("hours", { n: h }) + (m ? t("minutes", { n: m }) : "");
  if (m) return t("minutes", { n: m });
  return t("seconds", { n: s % 60 });
}

function countdown(node) {
  const due = Date.parse(node.dataset.due);
  const left = due - (Date.now() + offset);
  const late = left < 0 || node.dataset.late === "1";
  node.textContent = left < 0 ? t("late", { t: duration(left) }) : t("left", { t: duration(left) });
  node.classList.toggle("late", late);
  node.closest("li").classList.toggle("late", late);
}

function tick() {
  for (const node of document.querySelectorAll(".due[data-due]")) countdown(node);
}

function actionKey(kind, ref) {
  const id = `${kind} ${ref}`;
  if (!keys.has(id)) keys.set(id, crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  return keys.get(id);
}

function say(text, isError) {
  const notice = document.getElementById("notice");
  notice.textContent = text;
  notice.className = isError ? "error" : "";
  notice.hidden = !text;
}

async function post(body) {
  // Retried with the same key: the server answers a repeat with the first outcome.
  let lastError = null;
  for (const wait of [0, 500, 1500]) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const response = await call("/api/board/actions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      return { ok: response.ok, message: answer.message || `HTTP ${response.status}`, next: answer.next };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function act(kind, ref, fields, buttons) {
  const id = `${kind} ${ref}`;
  const body = { kind, ref, key: actionKey(kind, ref), lang, ...fields };
  for (const b of buttons) b.disabled = true;
  say(t("sending"));
  try {
    const answer = await post(body);
    keys.delete(id); // answered: a later tap is a new action
    say(answer.message, !answer.ok);
    // A binding step (签发 …): straight on to its confirmation with a passkey or a code.
    if (answer.ok && answer.next && answer.next.startsWith("/confirm/")) {
      // In a widget, a tab of its own: passkeys and the sign-in cookie work there, not in a frame.
      if (WIDGET) window.open(answer.next, "_blank", "noopener");
      else {
        window.location.assign(answer.next);
        return;
      }
    }
    if (answer.ok) forms.delete(id);
  } catch {
    say(t("network"), true); // the key stays, so the next tap is the same action
  } finally {
    for (const b of buttons) b.disabled = false;
    if (snapshot) render();
  }
}

function actionForm(kind, ref, label) {
  const id = `${kind} ${ref}`;
  if (forms.has(id)) return forms.get(id);
  const form = el("form", { className: "act" });
  form.dataset.kind = kind;
  for (const field of FORMS[kind]) {
    const input = field.type === "number"
      ? el("input", { name: field.name, type: "number", min: 0, max: 100, step: 5, inputMode: "numeric", required: true })
      : el("textarea", { name: field.name, rows: 2, maxLength: 2000, required: !!field.required });
    input.placeholder = t(field.label);
    input.setAttribute("aria-label", t(field.label));
    form.append(input);
  }
  const submit = el("button", { type: "submit", textContent: label || t("actions")[kind] });
  const cancel = el("button", { type: "button", textContent: t("cancel") });
  cancel.addEventListener("click", () => {
    forms.delete(id);
    keys.delete(id);
    render();
  });
  form.append(el("div", { className: "row" }, submit, cancel));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const fields = { opinion: String(data.get("opinion") || "").trim() };
    if (data.has("percent")) fields.percent = Number(data.get("percent"));
    act(kind, ref, fields, [submit, cancel]);
  });
  forms.set(id, form);
  return form;
}

function itemNode(item) {
  const li = el("li", { className: "item" });
  li.dataset.ref = item.ref || "";
  li.classList.toggle("late", !!item.late);
  const head = el("div", { className: "head" }, item.ref ? span(item.ref, "ref") : null, span(item.title || "", "title"));
  if (item.group) head.append(span(item.group, "group"));
  if (item.flag) head.append(span(item.flag, "flag"));
  li.append(head);
  for (const line of item.lines || []) li.append(el("div", { className: "line", textContent: line }));
  if (typeof item.progress === "number") {
    const fill = el("span");
    fill.style.width = `${Math.max(0, Math.min(100, item.progress))}%`;
    li.append(el("div", { className: "bar", title: `${item.progress}%` }, fill));
  }
  if (item.due) {
    const due = el("div", { className: "due" });
    due.dataset.due = item.due;
    due.dataset.late = item.late ? "1" : "";
    li.append(due);
    countdown(due);
  }
  // Only what this page knows how to send; the label comes with the data, in the reader's language.
  const actions = (item.actions || []).filter((a) => a && a.kind in TEXT.zh.actions && (a.ref || item.ref));
  if (actions.length) {
    const row = el("div", { className: "actions" });
    for (const action of actions) {
      const { kind } = action;
      const ref = action.ref || item.ref;
      const label = action.label || t("actions")[kind];
      const button = el("button", { type: "button", textContent: label });
      button.dataset.kind = kind;
      button.dataset.ref = ref;
      if (kind === "approve" || kind === "ack" || kind === "rsvp_yes") button.className = "yes";
      button.addEventListener("click", () => {
        if (FORMS[kind]) {
          actionForm(kind, ref, label);
          render();
        } else {
          act(kind, ref, {}, [button]);
        }
      });
      row.append(button);
    }
    li.append(row);
    for (const action of actions) {
      const open = forms.get(`${action.kind} ${action.ref || item.ref}`);
      if (open) li.append(open);
    }
  }
  return li;
}

// What burns first: emergencies, then what waits on the reader, then the day's facts.
const ORDER = ["emergency", "approvals", "tasks", "meetings", "duty", "notices"];

function ordered(sections) {
  const rank = (s) => (ORDER.includes(s.key) ? ORDER.indexOf(s.key) : ORDER.length);
  return [...sections].sort((a, b) => rank(a) - rank(b));
}

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.getElementById("lang").textContent = lang === "zh" ? "EN" : "中文";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  document.title = `${lang === "zh" ? "值班助手" : "Zhiban"} · ${t("title")}`;
  const live = document.getElementById("live");
  live.textContent = stale ? t("offline") : t("live");
  live.classList.toggle("offline", stale);
  if (!snapshot) return;
  const holder = document.getElementById("sections");
  const nodes = [];
  if (stale && snapshot.now) {
    const when = new Date(snapshot.now).toLocaleString(lang === "zh" ? "zh-CN" : "en", { hour12: false });
    nodes.push(el("p", { className: "stale", textContent: t("stale", { time: when }) }));
  }
  for (const section of ordered(snapshot.sections || [])) {
    const items = section.items || [];
    const node = el("section", { className: `board board-${section.key}` });
    node.dataset.key = section.key;
    const name = section.title || t("sections")[section.key] || section.key;
    node.append(el("h2", {}, span(name), span(String(items.length), "count")));
    for (const line of section.lines || []) node.append(el("p", { className: "section-line", textContent: line }));
    if (items.length) node.append(el("ul", { className: "items" }, ...items.map(itemNode)));
    else if (!(section.lines || []).length) node.append(el("p", { className: "empty", textContent: section.empty || t("empty") }));
    node.classList.toggle("has-late", items.some((i) => i.late));
    nodes.push(node);
  }
  holder.replaceChildren(...nodes);
  tick();
}

async function remember(data) {
  // The last board, readable offline: the service worker answers /api/board from this cache.
  if (!("caches" in self)) return;
  const cache = await caches.open(CACHE);
  await cache.put(`/api/board?lang=${lang}`, new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } }));
}

function show(data, fromNetwork) {
  snapshot = data;
  if (data.now) offset = Date.parse(data.now) - Date.now();
  stale = !fromNetwork;
  render();
  document.body.dataset.ready = "board";
  if (fromNetwork && !WIDGET) remember(data).catch(() => {});
}

function connect() {
  if (source) source.close();
  if (!("EventSource" in self)) return;
  const token = WIDGET && bearer ? `&access_token=${encodeURIComponent(bearer)}` : "";
  source = new EventSource(`/api/board/events?lang=${lang}${token}`);
  source.addEventListener("board", (event) => {
    document.body.dataset.version = event.lastEventId;
    show(JSON.parse(event.data), true);
  });
  source.addEventListener("open", () => {
    stale = false;
    render();
  });
  source.addEventListener("error", () => {
    stale = true; // EventSource reconnects by itself, sending Last-Event-ID
    render();
    // Refused (the widget's token ran out): it gives up, so sign in again and reopen it.
    if (WIDGET && source.readyState === EventSource.CLOSED) setTimeout(load, RETRY);
  });
}

async function load() {
  let response;
  try {
    response = await call(`/api/board?lang=${lang}`);
  } catch {
    response = null;
  }
  if (response && response.status === 401) {
    const signedOut = document.getElementById("signed-out");
    if (WIDGET) signedOut.dataset.t = "widgetDenied";
    signedOut.textContent = t(signedOut.dataset.t);
    signedOut.hidden = false;
    document.body.dataset.ready = "signed-out";
    return;
  }
  if (response && response.ok) {
    // The service worker marks an answer from its cache, so the page can say it is not live.
    show(await response.json(), !response.headers.get("X-From-Cache"));
  } else if (response) {
    say((await response.json().catch(() => ({}))).message || `HTTP ${response.status}`, true);
  }
  connect();
}

function main() {
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lang", lang);
    render();
    load();
  });
  if (WIDGET) {
    window.addEventListener("message", onWidgetMessage);
    askParent("content_loaded", {}); // for clients that wait for it before showing the widget
  } else if ("serviceWorker" in navigator) navigator.serviceWorker.register("/board/sw.js", { scope: "/board/" }).catch(() => {});
  setInterval(tick, 1000);
  render();
  load();
}

main();
