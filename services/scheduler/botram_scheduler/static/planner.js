/* The planner's calendar: month navigation, generation preview and confirmation, and a
   session's actions (open, close, move, cancel), all through the scheduler's JSON API. */
(function () {
  "use strict";

  var botram = window.botram;
  var MESSAGES = {
    "invalid-transition": "Sesi ini tidak dapat diubah seperti itu pada statusnya sekarang.",
    "date-in-past": "Tanggal itu sudah lewat. Pilih hari ini atau sesudahnya.",
    "end-before-start": "Jam selesai harus sesudah jam mulai.",
    "session-not-found": "Sesi ini tidak ditemukan. Muat ulang kalender.",
    "validation-error": "Isian belum lengkap atau belum benar."
  };
  var OPERATOR_ONLY = Object.assign({}, MESSAGES, {
    "role-required": "Membuka dan menutup sesi hanya dapat dilakukan oleh operator."
  });
  var ACTIONS = {
    preview: "akan dibuat",
    created: "dibuat",
    unchanged: "sudah ada",
    rescheduled: "dipindahkan sesuai aturan",
    kept: "dipertahankan (sudah diubah atau sudah berjalan)",
    past: "sudah lewat, tidak dibuat"
  };
  var LEVELS = { kecamatan: "Botram Kecamatan", desa: "Botram Desa" };

  var filter = document.getElementById("month-filter");
  var monthField = document.getElementById("filter-month");
  var dialog = document.getElementById("session-dialog");
  var sessionMessage = document.getElementById("session-message");
  var generateForm = document.getElementById("generate-form");
  var generateMessage = document.getElementById("generate-message");
  var preview = document.getElementById("preview");
  var current = null;
  var opener = null;

  function refresh() {
    document.dispatchEvent(new CustomEvent("planner:refresh"));
  }

  /* Month navigation: step the month field, then reload the month view. */
  document.querySelectorAll("[data-month-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      var parts = (monthField.value || "").split("-").map(Number);
      if (parts.length !== 2 || !parts[0]) return;
      var when = new Date(parts[0], parts[1] - 1 + Number(button.getAttribute("data-month-step")), 1);
      monthField.value = when.getFullYear() + "-" + String(when.getMonth() + 1).padStart(2, "0");
      refresh();
    });
  });

  document.getElementById("month").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-session]");
    if (button) openSession(JSON.parse(button.getAttribute("data-session")), button);
  });

  function fact(name, text) {
    dialog.querySelector('[data-fact="' + name + '"]').textContent = text || "–";
  }

  function openSession(session, button) {
    current = session;
    opener = button;
    document.getElementById("session-title").textContent =
      session.level_label + " " + session.place + (session.level === "desa" ? ", Kec. " + session.kecamatan : "");
    fact("date", session.date_label);
    fact("hours", session.start + "–" + session.end + " WIB");
    fact("venue", session.venue);
    fact("status", session.status_label);
    fact("services", session.services + " layanan");
    fact("reason", session.status_reason);
    dialog.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = element.getAttribute("data-when").split(" ").indexOf(session.status) < 0;
    });
    dialog.querySelectorAll("form").forEach(function (form) { form.reset(); clearErrors(form); });
    botram.showAlert(sessionMessage, "");
    dialog.showModal();
  }

  dialog.addEventListener("close", function () {
    if (opener && document.body.contains(opener)) opener.focus();
  });
  dialog.querySelector("[data-close-dialog]").addEventListener("click", function () { dialog.close(); });

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (slot) { slot.hidden = true; slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }

  /* Required fields, said in words next to the field; the first wrong one gets the focus. */
  function checkRequired(form) {
    clearErrors(form);
    var first = null;
    form.querySelectorAll("[required]").forEach(function (input) {
      if (input.value.trim()) return;
      var slot = document.getElementById(input.id + "-error");
      var label = form.querySelector('label[for="' + input.id + '"]').textContent;
      slot.textContent = label + " wajib diisi.";
      slot.hidden = false;
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    });
    if (first) first.focus();
    return !first;
  }

  /* After an action: say what happened, reload the month, close the dialog on success. */
  function done(result, success, messages) {
    if (!result.ok) {
      botram.showAlert(sessionMessage, botram.problemMessage(result.status, result.data, messages), "error");
      return;
    }
    dialog.close();
    botram.showAlert(generateMessage, "");
    announce(success);
    refresh();
  }

  function announce(text) {
    var status = document.getElementById("planner-status");
    botram.showAlert(status, text, "success");
  }

  dialog.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.getAttribute("data-action");
      botram.api("POST", "/v1/sessions/" + current.id + "/" + action, undefined, { messages: OPERATOR_ONLY })
        .then(function (result) {
          done(result, action === "open" ? "Sesi dibuka." : "Sesi ditutup.", OPERATOR_ONLY);
        });
    });
  });

  document.getElementById("move-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    if (!checkRequired(form)) return;
    var values = botram.formValues(form);
    botram.api("POST", "/v1/sessions/" + current.id + "/reschedule",
      { date: values.date, reason: values.reason.trim() }, { messages: MESSAGES })
      .then(function (result) { done(result, "Sesi dipindahkan ke " + values.date + ".", MESSAGES); });
  });

  document.getElementById("cancel-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    if (!checkRequired(form)) return;
    var values = botram.formValues(form);
    botram.api("POST", "/v1/sessions/" + current.id + "/cancel",
      { reason: values.reason.trim() }, { messages: MESSAGES })
      .then(function (result) { done(result, "Sesi dibatalkan.", MESSAGES); });
  });

  /* Generation: preview (dry run) first, then confirm the same range. */
  function generate(dryRun) {
    var values = botram.formValues(generateForm);
    return botram.api("POST", "/v1/schedule/generate",
      { from: values.from, to: values.to, dry_run: dryRun }, { messages: MESSAGES, timeoutMs: 60000 });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function showPreview(result) {
    var rows = document.getElementById("preview-rows");
    rows.textContent = "";
    var sessions = result.sessions.concat(result.moves.map(function (move) {
      return { date: move.date, level: move.level, kecamatan: move.kecamatan, desa: move.desa,
               action: "moved", reason: move.reason, moved_to: move.moved_to };
    }));
    sessions.sort(function (a, b) { return a.date < b.date ? -1 : a.date > b.date ? 1 : 0; });
    sessions.forEach(function (s) {
      var row = document.createElement("tr");
      cell(row, s.date);
      cell(row, LEVELS[s.level] || s.level);
      cell(row, s.desa ? s.desa + ", Kec. " + s.kecamatan : (s.kecamatan || "–"));
      cell(row, s.action === "moved"
        ? "tidak dijadwalkan: " + s.reason + (s.moved_to ? " (dipindah ke " + s.moved_to + ")" : "")
        : ACTIONS[s.action] || s.action);
      rows.appendChild(row);
    });
    var fresh = result.sessions.filter(function (s) { return s.action === "preview"; }).length;
    document.getElementById("preview-caption").textContent =
      "Pratinjau " + result.from + " sampai " + result.to + ": " + fresh + " sesi baru";
    preview.hidden = false;
    botram.showAlert(generateMessage, fresh
      ? "Periksa pratinjau, lalu tekan Konfirmasi untuk menyimpan " + fresh + " sesi."
      : "Tidak ada sesi baru pada rentang ini.", "info");
    document.getElementById("generate-confirm").hidden = fresh === 0;
  }

  generateForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!checkRequired(generateForm)) return;
    generate(true).then(function (result) {
      if (!result.ok) {
        preview.hidden = true;
        botram.showAlert(generateMessage, result.message, "error");
        return;
      }
      showPreview(result.data);
    });
  });

  document.getElementById("generate-confirm").addEventListener("click", function () {
    generate(false).then(function (result) {
      if (!result.ok) {
        botram.showAlert(generateMessage, result.message, "error");
        return;
      }
      preview.hidden = true;
      botram.showAlert(generateMessage, result.data.created + " sesi dibuat, " +
        result.data.rescheduled + " dipindahkan.", "success");
      refresh();
    });
  });

  document.getElementById("generate-discard").addEventListener("click", function () {
    preview.hidden = true;
    botram.showAlert(generateMessage, "");
  });

  document.addEventListener("botram:signed-out", function () {
    document.getElementById("month").textContent = "";
    preview.hidden = true;
    if (dialog.open) dialog.close();
  });

  filter.addEventListener("htmx:responseError", function () {
    document.getElementById("month").textContent = "Kalender tidak dapat dimuat. Coba lagi.";
  });
})();
