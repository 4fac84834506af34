/* The report officer's reports: the summary and the sessions of a period from reporting's JSON
   API, files (CSV, XLSX) downloaded with the bearer token and saved from a blob, and a
   session's printable page opened from a blob for printing. The token goes only into the
   Authorization header: never a URL, never a cookie. */
(function () {
  "use strict";

  var botram = window.botram;
  var MESSAGES = {
    "invalid-period": "Tanggal awal sesudah tanggal akhir. Tukar kedua tanggal.",
    "unknown-kecamatan": "Kecamatan itu tidak dikenal. Muat ulang halaman.",
    "unknown-agency": "Instansi itu tidak dikenal. Muat ulang halaman.",
    "unknown-session": "Sesi ini tidak ditemukan.",
    "validation-error": "Isian periode belum benar. Periksa tanggal."
  };
  var LEVELS = { kecamatan: "Botram Kecamatan", desa: "Botram Desa" };
  var STATUSES = {
    scheduled: "terjadwal",
    opened: "berlangsung",
    closed: "selesai",
    cancelled: "dibatalkan"
  };
  var MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
    "September", "Oktober", "November", "Desember"];
  var REVOKE_AFTER_MS = 60000;
  var TIMEOUT_MS = 30000;

  var names = JSON.parse(document.getElementById("reports-names").textContent);
  var form = document.getElementById("report-filter");
  var message = document.getElementById("report-message");
  var period = document.getElementById("summary-period");
  var agencyRows = document.getElementById("agency-rows");
  var sessionRows = document.getElementById("session-rows");
  var sessionsCaption = document.getElementById("sessions-caption");
  var ikmCell = document.getElementById("summary-ikm");
  var loaded = null;

  /* "6 Juli 2024" from "2024-07-06". */
  function tanggal(iso) {
    if (!iso) return "–";
    var parts = iso.split("-").map(Number);
    return parts[2] + " " + MONTHS[parts[1] - 1] + " " + parts[0];
  }

  function decimal(value) {
    return value.toFixed(1).replace(".", ",");
  }

  function shown(value, unit) {
    if (value === null || value === undefined) return "–";
    if (unit === "minutes") return decimal(value / 60);
    if (unit === "days") return decimal(value / 86400);
    return String(value);
  }

  function figure(totals, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? null : value[key];
    }, totals);
  }

  /* The filters as a query string (empty fields: all). */
  function query(extra) {
    var params = new URLSearchParams();
    var values = botram.formValues(form);
    Object.keys(values).forEach(function (name) {
      if (values[name]) params.set(name, values[name]);
    });
    Object.keys(extra || {}).forEach(function (name) { params.set(name, extra[name]); });
    return params.toString();
  }

  function cell(text, header) {
    var element = document.createElement(header ? "th" : "td");
    if (header) element.scope = "row";
    element.textContent = text;
    return element;
  }

  function button(text, label, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "button button-secondary";
    element.textContent = text;
    element.setAttribute("aria-label", label);
    element.addEventListener("click", onClick);
    return element;
  }

  function placeOf(session) {
    if (!session.kecamatan) return "Sesi " + session.session_id;
    var place = "Kecamatan " + (session.kecamatan_name || session.kecamatan);
    return session.desa ? "Desa " + (session.desa_name || session.desa) + ", " + place : place;
  }

  function renderSummary(summary) {
    var totals = summary.totals;
    document.querySelectorAll("#summary-table [data-figure]").forEach(function (td) {
      td.textContent = shown(figure(totals, td.getAttribute("data-figure")),
        td.getAttribute("data-unit"));
    });
    var filters = summary.filters;
    period.textContent = summary.regency + " · " +
      (filters.from || filters.to ? tanggal(filters.from) + " s.d. " + tanggal(filters.to)
        : "seluruh periode");
    agencyRows.replaceChildren();
    (summary.groups.agency || []).forEach(function (group) {
      var row = document.createElement("tr");
      row.append(cell(names.agencies[group.key] || group.key, true), cell(group.tickets_issued),
        cell(group.served), cell(group.no_shows), cell(group.expired), cell(group.follow_ups));
      agencyRows.append(row);
    });
    if (!agencyRows.children.length) {
      var empty = document.createElement("tr");
      var note = cell("Belum ada tiket pada periode ini.");
      note.colSpan = 6;
      empty.append(note);
      agencyRows.append(empty);
    }
  }

  function renderIkm(answer) {
    if (!answer) {
      ikmCell.textContent = "Tidak tersedia per kecamatan";
      return;
    }
    var overall = answer.ok ? answer.data.overall : null;
    ikmCell.textContent = overall && overall.ikm !== null
      ? decimal(overall.ikm) + " (" + overall.band + ", " + overall.band_label + "; " +
        overall.responses + " jawaban)"
      : "Belum ada jawaban survei";
  }

  function renderSessions(list) {
    sessionRows.replaceChildren();
    sessionsCaption.textContent = "Sesi: " + list.sessions.length;
    list.sessions.forEach(function (session) {
      var what = tanggal(session.date) + ", " + placeOf(session);
      var row = document.createElement("tr");
      row.setAttribute("data-session", session.session_id);
      var actions = document.createElement("td");
      actions.className = "actions";
      var path = "/v1/reports/sessions/" + encodeURIComponent(session.session_id);
      actions.append(
        button("Unduh CSV", "Unduh CSV laporan sesi " + what, function () {
          download(path + "?format=csv", "botram-sesi.csv");
        }),
        button("Unduh XLSX", "Unduh XLSX laporan sesi " + what, function () {
          download(path + "?format=xlsx", "botram-sesi.xlsx");
        }),
        button("Cetak", "Cetak laporan sesi " + what, function () {
          printSession(path + "/print");
        })
      );
      row.append(cell(tanggal(session.date), true), cell(LEVELS[session.level] || "–"),
        cell(placeOf(session)), cell(STATUSES[session.status] || session.status || "–"),
        cell(session.totals.served), cell(session.totals.no_shows), actions);
      sessionRows.append(row);
    });
    if (!list.sessions.length) {
      var empty = document.createElement("tr");
      var note = cell("Tidak ada sesi pada periode ini.");
      note.colSpan = 7;
      empty.append(note);
      sessionRows.append(empty);
    }
  }

  /* Load the summary, the IKM and the sessions for the filters. */
  function load() {
    var filters = query();
    var current = {};
    loaded = current;
    botram.showAlert(message, "");
    period.textContent = "Memuat laporan…";
    var kecamatan = form.elements.namedItem("kecamatan").value;
    var ikmQuery = new URLSearchParams(filters);
    ikmQuery.delete("kecamatan");
    return Promise.all([
      botram.api("GET", "/v1/reports/summary?" + query({ group_by: "agency" }), undefined,
        { messages: MESSAGES }),
      botram.api("GET", "/v1/reports/sessions?" + filters, undefined, { messages: MESSAGES }),
      kecamatan ? Promise.resolve(null)
        : botram.api("GET", "/v1/reports/ikm?" + ikmQuery.toString(), undefined,
          { messages: MESSAGES })
    ]).then(function (answers) {
      if (loaded !== current) return;  // a newer request superseded this one
      var failed = answers.filter(function (a) { return a && !a.ok; })[0];
      if (answers[0].ok) renderSummary(answers[0].data);
      else period.textContent = "Laporan tidak dapat dimuat.";
      if (answers[1].ok) renderSessions(answers[1].data);
      renderIkm(answers[2]);
      if (failed) botram.showAlert(message, failed.message, "error");
      document.dispatchEvent(new CustomEvent("reports:loaded"));
    });
  }

  /* A file of the API, fetched with the token (never in the URL). */
  function fetchWithToken(path, accept) {
    var headers = { Accept: accept };
    var token = botram.token();
    if (token) headers.Authorization = "Bearer " + token;
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    return window.fetch(path, { headers: headers, credentials: "omit", signal: controller.signal })
      .then(function (response) {
        if (response.status === 401) {
          document.dispatchEvent(new CustomEvent("botram:unauthenticated"));
        }
        if (response.ok) return response.blob().then(function (blob) {
          return { ok: true, blob: blob, response: response };
        });
        return response.json().catch(function () { return null; }).then(function (problem) {
          return { ok: false, message: botram.problemMessage(response.status, problem, MESSAGES) };
        });
      }, function () {
        return { ok: false, message: botram.problemMessage(0, null) };
      }).finally(function () { window.clearTimeout(timer); });
  }

  function fileName(response, fallback) {
    var found = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return found ? found[1] : fallback;
  }

  /* Save a file of the API through a download link to a blob. */
  function download(path, fallback) {
    botram.showAlert(message, "Menyiapkan unduhan…");
    return fetchWithToken(path, "*/*").then(function (answer) {
      if (!answer.ok) {
        botram.showAlert(message, answer.message, "error");
        return;
      }
      var url = URL.createObjectURL(answer.blob);
      var link = document.createElement("a");
      link.href = url;
      link.download = fileName(answer.response, fallback);
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, REVOKE_AFTER_MS);
      botram.showAlert(message, "Berkas " + link.download + " diunduh.", "success");
    });
  }

  /* Open a session's printable page (HTML, no script) from a blob in a new window and print
     it. The window opens at once, while the click still allows it, and shows the page once
     fetched. */
  function printSession(path) {
    var win = window.open("", "_blank");
    if (!win) {
      botram.showAlert(message, "Jendela baru diblokir peramban. Izinkan jendela sembulan untuk halaman ini, lalu coba lagi.", "error");
      return Promise.resolve();
    }
    botram.showAlert(message, "Menyiapkan laporan untuk dicetak…");
    return fetchWithToken(path, "text/html").then(function (answer) {
      if (!answer.ok) {
        win.close();
        botram.showAlert(message, answer.message, "error");
        return;
      }
      var url = URL.createObjectURL(new Blob([answer.blob], { type: "text/html" }));
      win.location.replace(url);
      whenShown(win, url, function () {
        win.focus();
        win.print();
      });
      window.setTimeout(function () { URL.revokeObjectURL(url); }, REVOKE_AFTER_MS);
      botram.showAlert(message, "Laporan sesi dibuka di jendela baru untuk dicetak.", "success");
    });
  }

  /* Call `then` once `win` shows `url` completely (a blob of this page's origin). */
  function whenShown(win, url, then) {
    var tries = 0;
    var timer = window.setInterval(function () {
      tries += 1;
      var ready = false;
      try {
        ready = win.location.href === url && win.document.readyState === "complete";
      } catch (ignored) {
        ready = false;
      }
      if (ready || win.closed || tries > 100) {
        window.clearInterval(timer);
        if (ready) then();
      }
    }, 100);
  }

  document.querySelectorAll("[data-download-summary]").forEach(function (element) {
    element.addEventListener("click", function () {
      var format = element.getAttribute("data-download-summary");
      download("/v1/reports/summary?" + query({ format: format }), "botram-ringkasan." + format);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });

  botram.onSignedIn(function () { load(); });
})();
