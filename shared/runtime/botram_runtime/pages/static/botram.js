/* Botram pages: call the JSON API with the signed-in token; say what went wrong in Bahasa
   Indonesia. Exposed as `window.botram`; signin.js adds signing in on top. */
(function () {
  "use strict";

  var TOKEN_KEY = "botram.token";
  var TIMEOUT_MS = 15000;
  var BY_STATUS = {
    0: "Layanan tidak dapat dihubungi. Periksa jaringan, lalu coba lagi.",
    400: "Permintaan tidak dapat diproses.",
    401: "Masa masuk Anda telah berakhir. Silakan masuk kembali.",
    403: "Anda tidak berwenang melakukan tindakan ini.",
    404: "Data tidak ditemukan.",
    409: "Tindakan ini tidak dapat dilakukan pada keadaan sekarang.",
    422: "Data belum lengkap atau belum benar.",
    429: "Terlalu banyak permintaan. Tunggu sebentar, lalu coba lagi."
  };
  var SERVER_ERROR = "Terjadi gangguan pada layanan. Coba lagi sebentar lagi.";

  function token() {
    return window.sessionStorage.getItem(TOKEN_KEY);
  }

  /* The problem's stable code: the last part of its `type` URI. */
  function problemCode(problem) {
    if (!problem || typeof problem.type !== "string") return null;
    return problem.type.split("/").pop();
  }

  /* Text for a refusal: the page's own words for the problem's code, else by status. */
  function problemMessage(status, problem, messages) {
    var code = problemCode(problem);
    if (messages && code && messages[code]) return messages[code];
    var text = BY_STATUS[status] || (status >= 500 ? SERVER_ERROR : BY_STATUS[400]);
    return code && status !== 0 ? text + " (kode: " + code + ")" : text;
  }

  /* fetch() with the bearer token and a time limit. Never throws: answers
     {ok, status, data, code, message}; a 401 tells signin.js to ask for signing in again. */
  function api(method, path, body, options) {
    var opts = options || {};
    var headers = { Accept: "application/json" };
    var current = token();
    if (current) headers.Authorization = "Bearer " + current;
    var init = { method: method, headers: headers, credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, opts.timeoutMs || TIMEOUT_MS);
    init.signal = controller.signal;
    return window.fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
        if (response.status === 401) {
          document.dispatchEvent(new CustomEvent("botram:unauthenticated"));
        }
        return {
          ok: response.ok,
          status: response.status,
          data: data,
          code: response.ok ? null : problemCode(data),
          message: response.ok ? null : problemMessage(response.status, data, opts.messages)
        };
      });
    }, function () {
      return { ok: false, status: 0, data: null, code: null, message: BY_STATUS[0] };
    }).finally(function () { window.clearTimeout(timer); });
  }

  /* Show `text` in an alert element (kind: info, success, warning, error); empty hides it. */
  function showAlert(element, text, kind) {
    var level = kind || "info";
    element.className = "alert alert-" + level;
    element.setAttribute("role", level === "error" ? "alert" : "status");
    element.textContent = text || "";
    element.hidden = !text;
  }

  /* Forms: the values of a form as an object (checkbox groups as lists). */
  function formValues(form) {
    var values = {};
    new FormData(form).forEach(function (value, name) {
      var field = form.elements.namedItem(name);
      var many = field && field.length !== undefined && field[0] && field[0].type === "checkbox";
      if (many) (values[name] = values[name] || []).push(value);
      else values[name] = value;
    });
    return values;
  }

  /* htmx requests carry the token too (fragments of signed-in pages). */
  document.addEventListener("htmx:configRequest", function (event) {
    var current = token();
    if (current) event.detail.headers.Authorization = "Bearer " + current;
  });

  window.botram = Object.assign(window.botram || {}, {
    TOKEN_KEY: TOKEN_KEY,
    token: token,
    api: api,
    problemMessage: problemMessage,
    showAlert: showAlert,
    formValues: formValues
  });
})();
