// Offline Pixel web app: sign-in, registration and the signed-in view.
// It uses the session cookie (HttpOnly, set by /auth/login) and sends the
// X-CSRF-Token from /api/v1/me on every unsafe request.
"use strict";

let csrf = null;

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const fields = (data && data.errors || []).map(e => `${e.field} ${e.message}`).join("; ");
    throw new Error(fields || (data && data.detail) || res.statusText);
  }
  return data;
}

function show(signedIn) {
  document.getElementById("signed-in").hidden = !signedIn;
  document.getElementById("signed-out").hidden = signedIn;
}

async function refresh() {
  try {
    const me = await api("GET", "/api/v1/me");
    csrf = me.csrf_token;
    document.getElementById("me-name").textContent = me.user.name;
    document.getElementById("me-email").textContent = me.user.email;
    document.getElementById("me-role").textContent = me.user.role;
    show(true);
  } catch (e) {
    csrf = null;
    show(false);
  }
}

function onSubmit(id, handler) {
  const form = document.getElementById(id);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = form.querySelector(".error");
    err.textContent = "";
    try {
      await handler(Object.fromEntries(new FormData(form)));
      form.reset();
      await refresh();
    } catch (e) {
      err.textContent = e.message;
    }
  });
}

onSubmit("login-form", (f) => api("POST", "/api/v1/auth/login", { email: f.email, password: f.password }));
onSubmit("register-form", async (f) => {
  await api("POST", "/api/v1/auth/register", f);
  await api("POST", "/api/v1/auth/login", { email: f.email, password: f.password });
});
document.getElementById("logout").addEventListener("click", async () => {
  await api("POST", "/api/v1/auth/logout").catch(() => {});
  await refresh();
});

fetch("/readyz").then(r => {
  document.getElementById("health").textContent = r.ok ? "server ready" : "server not ready";
}).catch(() => { document.getElementById("health").textContent = "server unreachable"; });

refresh();
