// LeakGuard console: progressive enhancement only; every page works without this script.
// - The accept-risk fields show only when "Accept the risk" is chosen.
// - Embedded in Shopify admin (App Bridge loaded): cookies are not available in the iframe, so
//   links, forms and exports inside the console go through fetch with a fresh session token in
//   the Authorization header, and the new page's body replaces the current one.
(function () {
  "use strict";

  function appBridge() {
    return window.shopify && typeof window.shopify.idToken === "function";
  }

  function toggleAcceptFields(form) {
    var fields = form.querySelector(".accept-fields");
    if (!fields) return;
    var accept = form.querySelector("input[name=decision][value=accept_risk]");
    var on = !!(accept && accept.checked);
    fields.hidden = !on;
    var justification = form.querySelector("#justification");
    var expires = form.querySelector("#expires_on");
    if (justification) justification.required = on;
    if (expires) expires.required = on;
  }

  function initForms() {
    document.querySelectorAll("form.review").forEach(toggleAcceptFields);
  }

  async function authorizedFetch(url, init) {
    init = init || {};
    init.headers = new Headers(init.headers || {});
    init.headers.set("Authorization", "Bearer " + (await window.shopify.idToken()));
    init.headers.set("Accept", "text/html");
    return fetch(url, init);
  }

  async function show(response, url, push) {
    var html = await response.text();
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    // A page reached from the App Home page brings its stylesheet along.
    doc.querySelectorAll("link[rel=stylesheet]").forEach(function (link) {
      if (!document.querySelector('link[rel=stylesheet][href="' + link.getAttribute("href") + '"]')) {
        document.head.appendChild(document.adoptNode(link));
      }
    });
    document.body.replaceWith(document.adoptNode(doc.body));
    if (push) history.pushState({}, "", url);
    initForms();
    window.scrollTo(0, 0);
  }

  function consoleUrl(href) {
    var url = new URL(href, location.href);
    return url.origin === location.origin && url.pathname.indexOf("/console/") === 0 ? url : null;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.review");
    if (form) toggleAcceptFields(form);
  });

  document.addEventListener("click", async function (event) {
    if (!appBridge()) return;
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.metaKey || event.ctrlKey) return;
    var url = consoleUrl(link.href);
    if (!url) return;
    event.preventDefault();
    var response = await authorizedFetch(url.href);
    if (link.hasAttribute("data-export")) {
      var blob = await response.blob();
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = url.pathname.split("/").pop();
      a.click();
      return;
    }
    await show(response, response.url || url.href, true);
  });

  document.addEventListener("submit", async function (event) {
    if (!appBridge()) return;
    var form = event.target;
    var url = consoleUrl(form.action);
    if (!url || form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    var response = await authorizedFetch(url.href, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
    });
    await show(response, response.url || url.href, true);
  });

  window.addEventListener("popstate", async function () {
    if (!appBridge()) return;
    await show(await authorizedFetch(location.href), location.href, false);
  });

  document.addEventListener("DOMContentLoaded", initForms);
})();
