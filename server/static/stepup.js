// The step-up pages: register a passkey or a TOTP authenticator (/security), and confirm a
// binding decision with one of them (/confirm/<token>). WebAuthn needs ArrayBuffers where
// the server speaks base64url JSON; the two helpers below convert, nothing else is done here.
"use strict";

// The reader's language as the server knows it (the chat's), not the browser's.
const en = document.documentElement.lang === "en";
const say = (zh, eng, cls) => {
  const status = document.getElementById("status");
  status.textContent = en ? eng : zh;
  status.className = cls || "";
};

const fromB64url = (text) => {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
};
const toB64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || response.statusText);
    error.code = data.error || String(response.status);
    error.zh = data.message_zh; // a refusal the person must act on says it in both languages
    if (data.confirm) location.href = data.confirm; // confirm with what you have, then come back
    throw error;
  }
  return data;
}
const post = (url, body) => call("POST", url, body);

function credentialJSON(credential) {
  const response = credential.response;
  const out = {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toB64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    out.response.attestationObject = toB64url(response.attestationObject);
    out.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    out.response.authenticatorData = toB64url(response.authenticatorData);
    out.response.signature = toB64url(response.signature);
    if (response.userHandle) out.response.userHandle = toB64url(response.userHandle);
  }
  if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
  return out;
}

const on = (id, handler) => {
  const element = document.getElementById(id);
  if (element) element.addEventListener("click", handler);
};

// -- /security ---------------------------------------------------------------------------
// After an admin's reset: the enrolment code the admin handed over by phone or in person.
on("enter-code", async () => {
  try {
    await post("/security/enrolment-code", { code: document.getElementById("enrolment-code").value });
    document.getElementById("reset-code").hidden = true;
    say("登记码正确：现在可以添加验证方式。", "The code is right: add an authenticator now.", "done");
  } catch (error) {
    say("登记码未被接受：" + (error.zh || error.message), "The code was not accepted: " + error.message, "error");
  }
});
on("add-passkey", async () => {
  try {
    const options = await post("/security/passkey/options");
    options.challenge = fromB64url(options.challenge);
    options.user.id = fromB64url(options.user.id);
    (options.excludeCredentials || []).forEach((c) => (c.id = fromB64url(c.id)));
    const credential = await navigator.credentials.create({ publicKey: options });
    await post("/security/passkey", { credential: credentialJSON(credential) });
    const section = document.getElementById("security");
    section.dataset.passkeys = String(Number(section.dataset.passkeys) + 1);
    say("通行密钥已添加。", "The passkey is added.", "done");
  } catch (error) {
    say("未能添加通行密钥：" + (error.zh || error.message), "The passkey was not added: " + error.message, "error");
  }
});

on("start-totp", async () => {
  try {
    const data = await post("/security/totp");
    document.getElementById("totp-secret").textContent = data.secret;
    const link = document.getElementById("totp-uri");
    link.href = data.uri;
    link.textContent = data.uri;
    document.getElementById("totp-setup").hidden = false;
  } catch (error) {
    say("未能开始设置：" + (error.zh || error.message), "Could not start: " + error.message, "error");
  }
});

on("confirm-totp", async () => {
  try {
    await post("/security/totp/confirm", { code: document.getElementById("totp-code").value });
    document.getElementById("security").dataset.totp = "1";
    document.getElementById("totp-setup").hidden = true;
    say("动态验证码已开启。", "One-time codes are on.", "done");
  } catch (error) {
    say("验证码不正确，请输入应用中最新的 6 位数字。", "The code is not right; enter the newest 6 digits.", "error");
  }
});

// Removing one asks for a confirmation first (the server sends the page there), and the last
// one is kept while a decision waits for it; the page is drawn again from the server after.
const removed = async (url) => {
  try {
    await call("DELETE", url);
    location.reload();
  } catch (error) {
    say("未能移除：" + (error.zh || error.message), "Not removed: " + error.message, "error");
  }
};
document.querySelectorAll("[data-remove-passkey]").forEach((button) =>
  button.addEventListener("click", () => removed("/security/passkey/" + button.dataset.removePasskey))
);
on("remove-totp", () => removed("/security/totp"));

// -- /confirm/<token> --------------------------------------------------------------------
const confirmBox = document.getElementById("confirm");
const confirmed = (data) => {
  confirmBox.dataset.state = "done";
  if (data.next) {
    location.href = data.next;
    return;
  }
  say("已确认，" + data.subject + " 的“" + data.step + "”已同意。", "Confirmed: " + data.step + " of " + data.subject + " is approved.", "done");
};
const refused = (error) => {
  confirmBox.dataset.state = "refused:" + (error.code || "");
  say("未确认，没有作出任何决定：" + (error.zh || error.message), "Not confirmed; nothing was decided: " + error.message, "error");
};

on("use-passkey", async () => {
  const base = "/confirm/" + confirmBox.dataset.token;
  try {
    const options = await post(base + "/options");
    options.challenge = fromB64url(options.challenge);
    (options.allowCredentials || []).forEach((c) => (c.id = fromB64url(c.id)));
    const credential = await navigator.credentials.get({ publicKey: options });
    const body = { credential: credentialJSON(credential) };
    self.__lastAssertion = body; // kept for the page's own tests (a replay must be refused)
    confirmed(await post(base + "/passkey", body));
  } catch (error) {
    refused(error);
  }
});

on("use-totp", async () => {
  try {
    confirmed(await post("/confirm/" + confirmBox.dataset.token + "/totp", { code: document.getElementById("code").value }));
  } catch (error) {
    refused(error);
  }
});

document.body.dataset.ready = "1"; // the buttons answer from here on
