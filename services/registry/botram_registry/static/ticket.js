/* A citizen's ticket: ask for its status again now and then (GET /v1/ticket-status/{code}).
   Small on purpose: no library, a slow phone loads it at once. */
(function () {
  "use strict";

  var root = document.querySelector("[data-ticket-code]");
  var code = root.getAttribute("data-ticket-code");
  var every = Number(root.getAttribute("data-refresh-seconds")) * 1000;
  var STATUSES = {
    waiting: "menunggu", completed: "selesai dilayani", no_show: "tidak hadir saat dipanggil",
    transferred: "dialihkan ke layanan lain",
    expired: "tidak terlayani: layanan hari ini sudah ditutup",
    cancelled: "dibatalkan: layanan hari ini dibatalkan"
  };

  function show(ticket) {
    var status = STATUSES[ticket.status] || ticket.status;
    if (ticket.status === "called") {
      var desk = ticket.desk || "";
      status = "dipanggil ke " + (desk.toLowerCase().indexOf("loket") === 0 ? desk : "loket " + desk);
    }
    document.getElementById("ticket-status").textContent = status;
    document.getElementById("ticket-wait").hidden = ticket.status !== "waiting";
    document.getElementById("ticket-position").textContent = ticket.position || "–";
    document.getElementById("ticket-eta").textContent = ticket.estimated_wait_seconds === null ? "–"
      : "± " + Math.ceil(ticket.estimated_wait_seconds / 60) + " menit";
    // Served while the page was open: load it again, with the survey.
    if (ticket.survey === "open" && !document.getElementById("survey-form")) window.location.reload();
    return ticket.status === "waiting" || ticket.status === "called";
  }

  function poll() {
    window.fetch("/v1/ticket-status/" + encodeURIComponent(code), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (ticket) {
        if (!ticket || show(ticket)) window.setTimeout(poll, every);
      }, function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
})();
