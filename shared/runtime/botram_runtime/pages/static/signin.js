/* Signing in to a Botram page. The token lives in sessionStorage (this tab only, never a
   cookie) and goes to the API as `Authorization: Bearer`, added by botram.js.

   Embedded default: a sign-in link `…/page#access_token=…` (botram token --link, or a QR code
   of the sign-in sheet). A fragment is never sent to a server nor logged; it is taken from
   the address bar at once. With an identity provider: the OIDC authorization-code flow with
   PKCE (oidc-client-ts), configured by the JSON in #botram-signin-config.

   The claims are decoded here for display only (who, until when): the services verify the
   token's signature on every API call. */
(function () {
  "use strict";

  var botram = window.botram;
  var KEY = botram.TOKEN_KEY;
  var MAX_TIMER_MS = 2147483647;
  var ROLE_LABELS = {
    planner: "perencana",
    operator: "operator",
    "front-desk": "petugas pendaftaran",
    desk: "petugas loket",
    agency: "instansi",
    viewer: "pemantau"
  };
  var EXPIRED = "Masa masuk Anda telah berakhir. Silakan masuk kembali.";

  var config = JSON.parse(document.getElementById("botram-signin-config").textContent);
  var required = (document.body.getAttribute("data-signin-roles") || "").split(" ").filter(Boolean);
  var prompt = document.querySelector("[data-signin-prompt]");
  var content = document.querySelector("[data-signed-in]");
  var actor = document.querySelector("[data-actor]");
  var notice = document.getElementById("signin-message");
  var listeners = [];
  var signedIn = false;
  var hadSession = false;
  var expiryTimer = null;
  var manager = null;

  function decodeClaims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var binary = window.atob(part + "===".slice((part.length + 3) % 4));
      var bytes = Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === "object" && typeof claims.exp === "number" ? claims : null;
    } catch (ignored) {
      return null;
    }
  }

  /* The stored token and its claims, or null (an expired token is forgotten). */
  function current() {
    var token = window.sessionStorage.getItem(KEY);
    var claims = token ? decodeClaims(token) : null;
    if (!claims || claims.exp * 1000 <= Date.now()) {
      if (token) window.sessionStorage.removeItem(KEY);
      return null;
    }
    return { token: token, claims: claims };
  }

  function store(token) {
    if (!decodeClaims(token)) return false;
    window.sessionStorage.setItem(KEY, token);
    return true;
  }

  function rolesText(roles) {
    return roles.map(function (role) { return ROLE_LABELS[role] || role; }).join(", ");
  }

  function timeText(epochSeconds) {
    var when = new Date(epochSeconds * 1000);
    var sameDay = when.toDateString() === new Date().toDateString();
    var time = when.toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
    if (sameDay) return "pukul " + time;
    return when.toLocaleDateString("id-ID", { day: "numeric", month: "long" }) + " pukul " + time;
  }

  function say(text) {
    botram.showAlert(notice, text, "warning");
  }

  /* Show the page or the sign-in prompt for whoever is signed in now. */
  function render(message) {
    var session = current();
    var roles = session && Array.isArray(session.claims.roles) ? session.claims.roles : [];
    var allowed = Boolean(session) && (required.length === 0 || roles.some(function (role) {
      return required.indexOf(role) >= 0;
    }));
    prompt.hidden = allowed;
    content.hidden = !allowed;
    actor.hidden = !session;
    window.clearTimeout(expiryTimer);
    if (session) {
      hadSession = true;
      actor.querySelector("[data-actor-roles]").textContent = rolesText(roles) || "tanpa peran";
      actor.querySelector("[data-actor-agency]").textContent =
        session.claims.agency ? " · " + session.claims.agency : "";
      actor.querySelector("[data-actor-expiry]").textContent =
        "Berlaku sampai " + timeText(session.claims.exp);
      var left = session.claims.exp * 1000 - Date.now();
      expiryTimer = window.setTimeout(function () { render(EXPIRED); }, Math.min(left, MAX_TIMER_MS));
    }
    if (session && !allowed) {
      say("Anda masuk sebagai " + (rolesText(roles) || "tanpa peran") +
          ". Halaman ini memerlukan peran " + rolesText(required).replace(/, /g, " atau ") + ".");
    } else {
      say(message || (!session && hadSession ? EXPIRED : ""));
    }
    if (allowed && !signedIn) {
      signedIn = true;
      listeners.forEach(function (listener) { listener(session.claims); });
      document.dispatchEvent(new CustomEvent("botram:signed-in", { detail: session.claims }));
    } else if (!allowed && signedIn) {
      signedIn = false;
      document.dispatchEvent(new CustomEvent("botram:signed-out"));
    }
  }

  /* The embedded default: a sign-in link's fragment. */
  function takeFragment() {
    if (!window.location.hash) return;
    var token = new URLSearchParams(window.location.hash.slice(1)).get("access_token");
    if (!token) return;
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
    if (!store(token)) say("Tautan masuk ini tidak dapat dibaca. Mintalah tautan baru kepada operator.");
  }

  function oidcLibrary() {
    if (window.oidc) return Promise.resolve(window.oidc);
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = config.library;
      script.onload = function () { resolve(window.oidc); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function userManager() {
    return oidcLibrary().then(function (oidc) {
      var here = window.location.origin + window.location.pathname;
      manager = manager || new oidc.UserManager({
        authority: config.issuer,
        client_id: config.client_id,
        redirect_uri: here,
        post_logout_redirect_uri: here,
        response_type: "code",
        scope: config.scope,
        userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
        automaticSilentRenew: false
      });
      return manager;
    });
  }

  /* Back from the identity provider with ?code=…&state=…: exchange it (PKCE) for tokens. */
  function completeOidc() {
    var query = new URLSearchParams(window.location.search);
    if (!query.has("state") || !(query.has("code") || query.has("error"))) return Promise.resolve();
    return userManager()
      .then(function (users) { return users.signinRedirectCallback(); })
      .then(function (user) { store(user.access_token); })
      .catch(function () { say("Gagal masuk melalui penyedia identitas. Silakan coba lagi."); })
      .finally(function () {
        window.history.replaceState(null, "", window.location.pathname);
      });
  }

  function signOut() {
    window.sessionStorage.removeItem(KEY);
    hadSession = false;
    if (config.mode === "oidc" && manager) {
      manager.signoutRedirect().catch(function () { render(); });
      return;
    }
    render();
  }

  document.querySelectorAll("[data-signin-mode]").forEach(function (section) {
    section.hidden = section.getAttribute("data-signin-mode") !== config.mode;
  });
  document.querySelectorAll("[data-signout]").forEach(function (button) {
    button.addEventListener("click", signOut);
  });
  document.querySelectorAll("[data-signin-oidc]").forEach(function (button) {
    button.addEventListener("click", function () {
      userManager().then(function (users) { return users.signinRedirect(); })
        .catch(function () { say("Penyedia identitas tidak dapat dihubungi. Silakan coba lagi."); });
    });
  });
  document.querySelectorAll("[data-signin-token-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.elements.namedItem("access_token");
      var ok = store(field.value.trim());
      field.value = "";
      render(ok ? "" : "Token ini tidak dapat dibaca.");
      if (ok) document.getElementById("main").focus();
    });
  });
  document.addEventListener("botram:unauthenticated", function () {
    window.sessionStorage.removeItem(KEY);
    render(EXPIRED);
  });

  botram.onSignedIn = function (listener) {
    listeners.push(listener);
    var session = current();
    if (signedIn && session) listener(session.claims);
  };
  botram.claims = function () {
    var session = current();
    return session ? session.claims : null;
  };
  botram.signOut = signOut;

  /* A second sign-in link opened in the same tab changes only the fragment: no reload. */
  window.addEventListener("hashchange", function () {
    if (window.location.hash.indexOf("access_token=") < 0) return;
    takeFragment();
    render();
  });

  takeFragment();
  var completed = config.mode === "oidc" ? completeOidc() : Promise.resolve();
  /* The first render waits until htmx and the page's own script have set up on
     DOMContentLoaded, so that `botram:signed-in` reaches their listeners. */
  function start() {
    window.setTimeout(function () { completed.then(function () { render(); }); }, 0);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
