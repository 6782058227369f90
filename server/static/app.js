// The push page: sign-in state, subscribe button, and the last notifications.
"use strict";

const TEXT = {
  zh: {
    title: "值班助手 · 推送",
    signedOut: "尚未登录。请在聊天中向值班助手发送 !推送，然后在手机上打开收到的链接。",
    who: "已登录：{user}",
    subscribe: "开通本设备推送",
    subscribed: "本设备已开通推送",
    test: "发送测试推送",
    recent: "最近通知",
    empty: "暂无通知。",
    denied: "浏览器拒绝了通知权限，请在浏览器设置中允许。",
    unsupported: "此浏览器不支持推送。iPhone 请先“添加到主屏幕”再打开。",
    failed: "开通失败：{error}",
    done: "已开通。",
    testQueued: "测试推送已发出。",
    testQuiet: "现在是您的免打扰时段，测试推送被暂缓。",
    signOut: "退出登录",
    signOutAll: "在所有设备上退出并关闭推送",
    status: { delivered: "已送达", dm: "已私信", chat: "已在聊天中发送", queued: "发送中", retrying: "重试中", skipped_quiet: "免打扰", gone: "设备失效", failed: "失败", expired: "已过期" },
  },
  en: {
    title: "Zhiban · Push",
    signedOut: "Not signed in. Send !push to Zhiban in chat, then open the link you receive on this phone.",
    who: "Signed in as {user}",
    subscribe: "Turn on push for this device",
    subscribed: "Push is on for this device",
    test: "Send a test push",
    recent: "Recent notifications",
    empty: "No notifications yet.",
    denied: "The browser blocked notifications; allow them in its settings.",
    unsupported: "This browser cannot receive push. On iPhone, add this page to the Home Screen first.",
    failed: "Could not turn push on: {error}",
    done: "Push is on.",
    testQueued: "Test push sent.",
    testQuiet: "You are in quiet hours: the test push was held back.",
    signOut: "Sign out",
    signOutAll: "Sign out everywhere and turn push off",
    status: { delivered: "delivered", dm: "sent as DM", chat: "sent in chat", queued: "sending", retrying: "retrying", skipped_quiet: "quiet hours", gone: "device gone", failed: "failed", expired: "expired" },
  },
};

let lang = localStorage.getItem("lang") || "zh";
let me = null;

function t(key, params) {
  let value = TEXT[lang][key] ?? TEXT.zh[key] ?? key;
  for (const [name, v] of Object.entries(params || {})) value = value.replace(`{${name}}`, v);
  return value;
}

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.getElementById("lang").textContent = lang === "zh" ? "EN" : "中文";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  document.title = t("title");
  if (me) document.getElementById("who").textContent = t("who", { user: me.user_id });
}

function b64urlToBytes(text) {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.message) || `HTTP ${response.status}`);
  return body;
}

function setStatus(text, isError) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

async function loadNotices() {
  const list = document.getElementById("notices");
  const data = await api("/api/push/notices?limit=20");
  list.replaceChildren();
  for (const n of data.notices) {
    const li = document.createElement("li");
    li.className = `kind-${n.kind}`;
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = n.title;
    const body = document.createElement("div");
    body.textContent = n.body;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${new Date(n.created_at).toLocaleString(lang === "zh" ? "zh-CN" : "en")} · ${TEXT[lang].status[n.status] || n.status}`;
    li.append(title, body, meta);
    list.append(li);
  }
  document.getElementById("empty").hidden = data.notices.length > 0;
}

function markSubscribed() {
  // data-t keeps the state across a language switch.
  const button = document.getElementById("subscribe");
  button.dataset.t = "subscribed";
  button.textContent = t("subscribed");
}

async function subscribe() {
  const button = document.getElementById("subscribe");
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    setStatus(t("unsupported"), true);
    return;
  }
  button.disabled = true;
  try {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      setStatus(t("denied"), true);
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    const { publicKey } = await api("/api/push/vapid-public-key");
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: b64urlToBytes(publicKey),
    });
    await api("/api/push/subscriptions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(subscription.toJSON ? subscription.toJSON() : subscription),
    });
    setStatus(t("done"));
    markSubscribed();
  } catch (error) {
    setStatus(t("failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

async function sendTest() {
  try {
    const result = await api("/api/push/test", { method: "POST" });
    // Only say "sent" when something was: in quiet hours the push is held back.
    setStatus(t(result.queued > 0 ? "testQueued" : "testQuiet"));
    setTimeout(loadNotices, 1500);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function forgetThisDevice() {
  // Signing out also stops pushes here, so that the next person to sign in on this browser
  // starts clean instead of inheriting a subscription.
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return;
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (!subscription) return;
  const { subscriptions } = await api("/api/push/subscriptions");
  const mine = subscriptions.find((s) => s.endpoint === subscription.endpoint);
  if (mine) await api(`/api/push/subscriptions/${mine.id}`, { method: "DELETE" });
  await subscription.unsubscribe();
}

async function signOut(everywhere) {
  await forgetThisDevice().catch(() => {});
  await fetch(everywhere ? "/push/signout-all" : "/push/signout", { method: "POST", credentials: "same-origin" });
  location.reload();
}

async function main() {
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lang", lang);
    render();
    if (me) loadNotices().catch(() => {});
  });
  if ("serviceWorker" in navigator) {
    await navigator.serviceWorker.register("/push/sw.js", { scope: "/push/" });
    navigator.serviceWorker.addEventListener("message", () => loadNotices().catch(() => {}));
  }
  try {
    me = await api("/api/push/me");
  } catch {
    me = null;
  }
  if (me && !localStorage.getItem("lang")) lang = me.lang === "en" ? "en" : "zh";
  render();
  document.getElementById("signed-out").hidden = !!me;
  document.getElementById("signed-in").hidden = !me;
  if (!me) {
    document.body.dataset.ready = "signed-out";
    return;
  }
  document.getElementById("subscribe").addEventListener("click", subscribe);
  if ("serviceWorker" in navigator && "PushManager" in window) {
    const registration = await navigator.serviceWorker.ready;
    if (await registration.pushManager.getSubscription().catch(() => null)) markSubscribed();
  }
  document.getElementById("test").addEventListener("click", sendTest);
  document.getElementById("signout").addEventListener("click", () => signOut(false));
  document.getElementById("signout-all").addEventListener("click", () => signOut(true));
  await loadNotices().catch((error) => setStatus(error.message, true));
  document.body.dataset.ready = "signed-in";
}

render();
main().catch((error) => setStatus(error.message, true));
