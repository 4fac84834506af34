/* A desk (loket): the services it serves (of its agency, from the token), one big
   "Panggil berikutnya" (F2), the ticket being served and its actions, and the waiting counts,
   live from the session's display stream. Refusals are said in Bahasa Indonesia. */
(function () {
  "use strict";

  var botram = window.botram;
  var screens = window.screens;
  var SETUP = "botram.desk";
  var MESSAGES = {
    "queue-empty": "Belum ada warga yang menunggu di layanan loket ini.",
    "ticket-state": "Tiket ini sudah ditangani loket lain atau sudah selesai.",
    "service-not-offered": "Layanan itu tidak tersedia di sesi ini.",
    "already-queued": "Warga ini sudah mengantre untuk layanan itu.",
    "transfer-same-service": "Pilih layanan lain untuk pengalihan.",
    "quota-full": "Kuota layanan tujuan sudah habis.",
    "agency-required": "Antrean atau tiket ini milik instansi lain: loket Anda tidak dapat menanganinya.",
    "service-required": "Loket Anda tidak ditugaskan untuk layanan ini.",
    "role-required": "Tindakan ini hanya untuk petugas loket atau operator."
  };
  var DONE = {
    served: "selesai dilayani", referred: "dirujuk", rejected: "ditolak",
    "no-show": "ditandai tidak hadir", recall: "dipanggil ulang"
  };

  var setup = document.getElementById("desk-setup");
  var sessionSelect = document.getElementById("session");
  var deskField = document.getElementById("desk-label");
  var message = document.getElementById("desk-message");
  var callButton = document.getElementById("call-next");
  var serving = document.getElementById("serving");
  var session = null;
  var claims = null;
  var current = null;
  var waiting = {};
  var stream = null;

  function saved() {
    try { return JSON.parse(window.sessionStorage.getItem(SETUP)) || {}; } catch (ignored) { return {}; }
  }

  function save() {
    window.sessionStorage.setItem(SETUP, JSON.stringify({
      desk: deskField.value, session: session && session.session_id, agency: claims.agency,
      services: chosen()
    }));
  }

  function chosen() {
    return Array.prototype.map.call(
      document.querySelectorAll('#desk-services input[name="services"]:checked'),
      function (input) { return input.value; });
  }

  function mine(service) {
    return !claims.agency || service.agency === claims.agency;
  }

  function showSession(picked) {
    session = picked;
    var box = document.getElementById("desk-services");
    box.textContent = "";
    var before = saved();
    var ours = (picked ? picked.services : []).filter(function (service) {
      return mine(service) && (!claims.services || claims.services.indexOf(service.code) >= 0);
    });
    if (!ours.length) box.appendChild(screens.element("p", "Sesi ini tidak memiliki layanan instansi Anda."));
    ours.forEach(function (service) {
      /* What this desk chose at this session before a reload; else all it may serve. */
      var same = picked && before.session === picked.session_id && before.agency === claims.agency;
      var keep = same && before.services ? before.services.indexOf(service.code) >= 0 : true;
      screens.checkbox(box, "services", service.code, service.name, { checked: keep });
    });
    var transfer = document.getElementById("transfer-service");
    transfer.textContent = "";
    (picked ? picked.services : []).forEach(function (service) {
      var option = document.createElement("option");
      option.value = service.code;
      option.textContent = service.name + " (" + service.agency_label + ")";
      transfer.appendChild(option);
    });
    follow();
    refreshCounts();
  }

  /* Waiting counts of this desk's services, from the public queue counts. */
  function refreshCounts() {
    if (!session) return Promise.resolve();
    return botram.api("GET", "/v1/sessions/" + session.session_id + "/queue").then(function (result) {
      if (!result.ok) return;
      var names = {};
      session.services.forEach(function (s) { names[s.code] = s.name; });
      var rows = document.getElementById("waiting");
      rows.textContent = "";
      waiting = {};
      result.data.services.forEach(function (queue) {
        waiting[queue.service] = queue.waiting;
        if (chosen().indexOf(queue.service) < 0) return;
        var row = document.createElement("tr");
        row.appendChild(screens.element("td", names[queue.service] || queue.service));
        row.appendChild(screens.element("td", String(queue.waiting)));
        rows.appendChild(row);
      });
    });
  }

  /* Live: every change at the session (any desk, any instance) refreshes the counts. */
  function follow() {
    if (stream) stream.close();
    if (!session || !window.EventSource) return;
    stream = new window.EventSource("/v1/sessions/" + session.session_id + "/display");
    stream.addEventListener("board", function () { refreshCounts(); });
  }

  function checkSetup() {
    var desk = deskField.value.trim();
    screens.fieldError("desk-label-error", desk ? "" : "Nama loket wajib diisi.");
    screens.fieldError("desk-services-error", chosen().length ? "" : "Pilih sedikitnya satu layanan.");
    if (!desk) { deskField.setAttribute("aria-invalid", "true"); deskField.focus(); return false; }
    deskField.removeAttribute("aria-invalid");
    if (!chosen().length) { document.querySelector("#desk-services input, #session").focus(); return false; }
    return Boolean(session);
  }

  /* The services to try, the longest queue first; the next one when a queue is empty. */
  function callNext() {
    botram.showAlert(message, "");
    if (!checkSetup()) return;
    var order = chosen().slice().sort(function (a, b) { return (waiting[b] || 0) - (waiting[a] || 0); });
    callButton.disabled = true;
    function attempt(index) {
      var body = { desk: deskField.value.trim() };
      var path = "/v1/sessions/" + session.session_id + "/services/" + order[index] + "/call-next";
      return botram.api("POST", path, body, { messages: MESSAGES }).then(function (result) {
        if (!result.ok && result.code === "queue-empty" && index + 1 < order.length) return attempt(index + 1);
        if (!result.ok) { botram.showAlert(message, result.message, result.status === 404 ? "info" : "error"); return; }
        show(result.data);
      });
    }
    attempt(0).finally(function () { callButton.disabled = false; refreshCounts(); });
  }

  function serviceName(code) {
    var found = (session ? session.services : []).filter(function (s) { return s.code === code; })[0];
    return found ? found.name : code;
  }

  function show(ticket) {
    current = ticket;
    serving.hidden = !ticket;
    if (!ticket) return;
    document.getElementById("serving-number").textContent = ticket.number;
    document.getElementById("serving-service").textContent = serviceName(ticket.service);
    serving.querySelector("button").focus();
  }

  function act(path, body, done) {
    var number = current.number;
    return botram.api("POST", "/v1/tickets/" + current.ticket_id + "/" + path, body, { messages: MESSAGES })
      .then(function (result) {
        if (!result.ok) { botram.showAlert(message, result.message, "error"); return; }
        botram.showAlert(message, "Tiket " + number + " " + done + ".", "success");
        if (path !== "recall") { show(null); callButton.focus(); }
        refreshCounts();
      });
  }

  serving.querySelectorAll("[data-outcome]").forEach(function (button) {
    button.addEventListener("click", function () {
      var outcome = button.getAttribute("data-outcome");
      act("complete", { outcome: outcome, desk: deskField.value.trim() }, DONE[outcome]);
    });
  });
  serving.querySelectorAll("[data-act]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.getAttribute("data-act");
      act(action, { desk: deskField.value.trim() }, DONE[action]);
    });
  });
  document.getElementById("transfer-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var target = document.getElementById("transfer-service").value;
    act("transfer", { service: target, desk: deskField.value.trim() }, "dialihkan ke " + serviceName(target));
  });

  callButton.addEventListener("click", callNext);
  document.addEventListener("keydown", function (event) {
    if (event.key === "F2" && !setup.closest("[hidden]")) {
      event.preventDefault();
      callNext();
    }
  });
  setup.addEventListener("change", function () { save(); refreshCounts(); });
  setup.addEventListener("submit", function (event) { event.preventDefault(); });

  botram.onSignedIn(function (signedIn) {
    claims = signedIn;
    deskField.value = saved().desk || "";
    screens.loadSessions(sessionSelect, message, showSession);
  });
  /* Another sign-in link opened in this tab (signin.js takes it without a reload): a desk of
     another agency or officer starts afresh. */
  window.addEventListener("hashchange", function () {
    window.setTimeout(function () {
      var now = botram.claims();
      if (claims && now && (now.agency !== claims.agency || now.sub !== claims.sub)) {
        window.location.reload();
      }
    }, 0);
  });
  document.addEventListener("botram:signed-out", function () {
    if (stream) stream.close();
    show(null);
  });
})();
