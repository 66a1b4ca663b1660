// LeakGuard console: progressive enhancement only; every page works without it.
// - The accept-risk fields show only when "Accept the risk" is chosen.
// - Embedded in Shopify admin (App Bridge present): forms and exports go through fetch with a
//   fresh session token in the Authorization header (cookies are not available in the iframe).
(function () {
  "use strict";
  function appBridge() { return window.shopify && typeof window.shopify.idToken === "function"; }

  function toggleAcceptFields(form) {
    var fields = form.querySelector(".accept-fields");
    if (!fields) return;
    var accept = form.querySelector("input[name=decision][value=accept_risk]");
    var on = accept && accept.checked;
    fields.hidden = !on;
    var j = form.querySelector("#justification"), d = form.querySelector("#expires_on");
    if (j) j.required = !!on;
    if (d) d.required = !!on;
  }

  async function authorizedFetch(url, init) {
    init = init || {};
    init.headers = new Headers(init.headers || {});
    init.headers.set("Authorization", "Bearer " + (await window.shopify.idToken()));
    init.headers.set("Accept", "text/html");
    return fetch(url, init);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.review").forEach(function (form) {
      toggleAcceptFields(form);
      form.addEventListener("change", function () { toggleAcceptFields(form); });
    });
    if (!appBridge()) return;
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        var response = await authorizedFetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
        var html = await response.text();
        document.open(); document.write(html); document.close();
      });
    });
    document.querySelectorAll("a[data-export]").forEach(function (link) {
      link.addEventListener("click", async function (event) {
        event.preventDefault();
        var response = await authorizedFetch(link.href);
        var blob = await response.blob();
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = link.href.split("/").pop();
        a.click();
      });
    });
  });
})();
