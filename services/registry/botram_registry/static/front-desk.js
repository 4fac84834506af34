/* The front desk: a NIK checked as typed (POST /v1/nik-checks), the check-in
   (POST /v1/sessions/{id}/check-ins) and its tickets printed with a QR code of each ticket's
   status page. Personal data travels in request bodies only, never in a URL. */
(function () {
  "use strict";

  var botram = window.botram;
  var screens = window.screens;
  var MESSAGES = {
    "session-not-open": "Sesi ini belum dibuka atau sudah ditutup.",
    "service-not-offered": "Layanan itu tidak tersedia di sesi ini.",
    "unknown-service": "Layanan itu tidak dikenal.",
    "quota-full": "Kuota layanan itu sudah habis.",
    "already-used": "Kode ini sudah dipakai untuk mendaftar.",
    "not-found": "Kode pendaftaran awal tidak ditemukan untuk sesi ini.",
    "validation-error": "Isian belum lengkap atau belum benar.",
    "role-required": "Pendaftaran hanya dapat dilakukan oleh petugas pendaftaran atau operator."
  };
  var NIK_LENGTH = 16;

  var form = document.getElementById("check-in-form");
  var sessionSelect = document.getElementById("session");
  var nikField = document.getElementById("field-nik");
  var nikOk = document.getElementById("field-nik-ok");
  var message = document.getElementById("check-in-message");
  var slipsSection = document.getElementById("slips-section");
  var slips = document.getElementById("slips");
  var session = null;
  var nikChecked = { nik: null, valid: false };

  function showServices(chosen) {
    session = chosen;
    var box = document.getElementById("service-options");
    box.textContent = "";
    (chosen ? chosen.services : []).forEach(function (service) {
      var left = service.quota_left;
      var text = service.name + " (" + service.agency_label + ") · menunggu " + service.waiting +
        (left === null ? "" : left > 0 ? " · sisa kuota " + left : " · kuota habis");
      screens.checkbox(box, "services", service.code, text, { disabled: left === 0 });
    });
  }

  function load() {
    return screens.loadSessions(sessionSelect, document.getElementById("session-message"), showServices);
  }

  /* The NIK, checked with the API's own rules once it has its 16 digits (and on leaving). */
  function checkNik() {
    var nik = nikField.value.trim();
    if (!nik) { setNik(null); return Promise.resolve(false); }
    if (nik === nikChecked.nik) return Promise.resolve(nikChecked.valid);
    if (nik.length < NIK_LENGTH && document.activeElement === nikField) return Promise.resolve(false);
    return botram.api("POST", "/v1/nik-checks", { nik: nik }).then(function (result) {
      if (!result.ok) { setNik(result.message); return false; }
      nikChecked = { nik: nik, valid: result.data.valid };
      setNik(result.data.valid ? "" : result.data.reason);
      return result.data.valid;
    });
  }

  function setNik(problem) {
    screens.fieldError("field-nik-error", problem || "");
    if (problem) nikField.setAttribute("aria-invalid", "true");
    else nikField.removeAttribute("aria-invalid");
    nikOk.hidden = problem !== "" || !nikField.value;
  }

  nikField.addEventListener("input", function () {
    nikOk.hidden = true;
    if (nikField.value.trim().length >= NIK_LENGTH) checkNik();
    else { screens.fieldError("field-nik-error", ""); nikField.removeAttribute("aria-invalid"); }
  });
  nikField.addEventListener("blur", function () { checkNik(); });

  function values() {
    var data = botram.formValues(form);
    return {
      nik: (data.nik || "").trim(),
      name: (data.name || "").trim(),
      phone: (data.phone || "").replace(/[\s-]/g, ""),
      consent: data.sms_consent === "yes",
      services: data.services ? [].concat(data.services) : [],
      reasons: data.priority_reasons ? [].concat(data.priority_reasons) : []
    };
  }

  /* Problems the page can say before asking the API; the first field in error gets the focus. */
  function problems(v) {
    var first = null;
    function flag(id, fieldId, text) {
      screens.fieldError(id, text);
      if (text && !first) first = document.getElementById(fieldId);
    }
    flag("field-name-error", "field-name", v.name ? "" : "Nama lengkap wajib diisi.");
    flag("field-phone-error", "field-phone",
      v.phone && !/^\+?[0-9]{8,15}$/.test(v.phone) ? "Nomor HP hanya angka, 8 sampai 15 digit." : "");
    flag("sms-consent-error", "sms-consent",
      v.phone && !v.consent ? "Centang persetujuan SMS, atau kosongkan nomor HP." : "");
    flag("services-error", "service-choice", v.services.length ? "" : "Pilih sedikitnya satu layanan.");
    if (first && first.id === "service-choice") first = first.querySelector("input:not(:disabled)") || first;
    if (!v.nik) flag("field-nik-error", "field-nik", "NIK wajib diisi.");
    else if (nikField.getAttribute("aria-invalid") === "true" && !first) first = nikField;
    if (first) first.focus();
    return Boolean(first);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    botram.showAlert(message, "");
    if (!session) { botram.showAlert(message, "Pilih sesi terlebih dahulu.", "error"); return; }
    var v = values();
    checkNik().then(function (valid) {
      if (problems(v) || !valid) { if (!valid) nikField.focus(); return; }
      var body = { nik: v.nik, name: v.name, services: v.services, priority_reasons: v.reasons,
                   priority: v.reasons.length > 0 };
      if (v.phone) body.phone = v.phone;
      botram.api("POST", "/v1/sessions/" + session.session_id + "/check-ins", body, { messages: MESSAGES })
        .then(function (result) {
          if (!result.ok) { botram.showAlert(message, result.message, "error"); return; }
          showSlips(result.data, result.status === 200);
        });
    });
  });

  /* A pre-registered citizen: the code of their QR (a scanner types it and Enter) checks
     them in at once; the answer is an ordinary check-in's. */
  var codeForm = document.getElementById("pre-registration-form");
  var codeField = document.getElementById("field-pre_registration_code");
  var codeMessage = document.getElementById("pre-registration-message");
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    botram.showAlert(codeMessage, "");
    if (!session) { botram.showAlert(codeMessage, "Pilih sesi terlebih dahulu.", "error"); return; }
    var code = codeField.value.replace(/[^A-Za-z0-9]/g, "").toUpperCase();
    if (!code) { botram.showAlert(codeMessage, "Isi kode pendaftaran awal.", "error"); return; }
    var path = "/v1/sessions/" + session.session_id + "/pre-registrations/" +
      encodeURIComponent(code) + "/check-in";
    botram.api("POST", path, undefined, { messages: MESSAGES }).then(function (result) {
      if (!result.ok) { botram.showAlert(codeMessage, result.message, "error"); return; }
      codeForm.reset();
      codeForm.hidden = true;
      showSlips(result.data, result.status === 200);
    });
  });

  function showSlips(checkIn, repeat) {
    slips.textContent = "";
    var slipsMessage = document.getElementById("slips-message");
    /* A repeated NIK: the numbers of the tickets held already (a repeat learns no more than
       a slip says: no status link), and slips for the services added now, if any. */
    var held = checkIn.held_numbers || [];
    botram.showAlert(slipsMessage, repeat
      ? "NIK ini sudah terdaftar di sesi ini." +
        (held.length ? " Nomor antrean yang sudah dimiliki warga: " + held.join(", ") + "." : "") +
        (checkIn.tickets.length ? " Tiket untuk layanan yang baru ditambahkan ada di bawah." : "")
      : "Pendaftaran berhasil. Cetak tiket dan serahkan kepada warga.", repeat ? "info" : "success");
    var loads = checkIn.tickets.map(function (ticket) {
      var code = ticket.status_url ? ticket.status_url.split("/t/").pop() : null;
      var holder = screens.element("div", ticket.number, "slip-holder");
      slips.appendChild(holder);
      if (!code) return Promise.resolve();
      return window.fetch("/t/" + encodeURIComponent(code) + "/slip", { credentials: "omit" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html) holder.innerHTML = html; })
        .catch(function () { return null; });
    });
    form.hidden = true;
    slipsSection.hidden = false;
    Promise.all(loads).then(function () { document.getElementById("slips-title").focus(); });
    load();
  }

  document.getElementById("slips-title").tabIndex = -1;
  document.getElementById("print-slips").addEventListener("click", function () { window.print(); });
  document.getElementById("next-citizen").addEventListener("click", function () {
    form.reset();
    nikChecked = { nik: null, valid: false };
    setNik(null);
    form.querySelectorAll(".field-error").forEach(function (slot) { slot.hidden = true; });
    slips.textContent = "";
    slipsSection.hidden = true;
    form.hidden = false;
    codeForm.hidden = false;
    nikField.focus();
  });

  botram.onSignedIn(load);
  document.addEventListener("botram:signed-out", function () {
    form.reset();
    slips.textContent = "";
    slipsSection.hidden = true;
    form.hidden = false;
  });
})();
