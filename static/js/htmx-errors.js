/*
 * Error answers to htmx requests, shown in place.
 *
 * htmx leaves a 4xx or 5xx answer unswapped by default, so a form that asks
 * the server for a partial shows nothing when the input is wrong. Here:
 *
 * - A 4xx answer whose body is an HTML fragment (no <html> or <body>) is
 *   swapped into the element's hx-target exactly as a 2xx answer would be.
 *   Endpoints answer bad input with their partial, its errors shown in it,
 *   and a 4xx status (400 bad input, 403, 404, 409, 422, 429).
 * - Any other error answer (a full page such as 404.html, any 5xx, with DEBUG
 *   on or off) is not swapped: a short message is shown in a box just before
 *   the target, and the next successful answer removes it. A full page's
 *   message is taken from its element marked data-error-message.
 * - A request that cannot reach the server shows the same box.
 *
 * Nothing outside the target changes, so what the user typed stays.
 */
(function () {
  "use strict";

  var BOX_CLASS = "htmx-error";

  function isFullPage(text) {
    return /<(html|body)[\s>]/i.test((text || "").slice(0, 4000));
  }

  function messageFor(xhr) {
    var status = xhr.status;
    if (status >= 400 && status < 500) {
      var page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var marked = page.querySelector("[data-error-message]");
      if (marked && marked.textContent.trim()) {
        return marked.textContent.trim();
      }
      if (status === 404) {
        return "Not found: there is nothing here, or you do not have access to it.";
      }
      if (status === 403) {
        return "This request was refused.";
      }
      return "The request could not be carried out (error " + status + "). What you entered is kept.";
    }
    if (status === 0) {
      return "The portal could not be reached. Check your connection and try again; what you entered is kept.";
    }
    return "Something went wrong on our side (error " + status + "). What you entered is kept: " +
      "try again in a moment, or tell the service desk if it keeps happening.";
  }

  function boxBefore(target) {
    var previous = target && target.previousElementSibling;
    return previous && previous.classList.contains(BOX_CLASS) ? previous : null;
  }

  function clear(target) {
    var box = boxBefore(target);
    if (box) {
      box.remove();
    }
  }

  function show(target, message) {
    if (!target || !target.parentNode) {
      return;
    }
    var box = boxBefore(target);
    if (!box) {
      box = document.createElement("div");
      box.className = "message error " + BOX_CLASS;
      box.setAttribute("role", "alert");
      target.parentNode.insertBefore(box, target);
    }
    box.textContent = message;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr.status;
    if (status < 400) {
      clear(detail.target);
      return;
    }
    if (status < 500 && !isFullPage(detail.xhr.responseText)) {
      detail.shouldSwap = true;
      detail.isError = false;
      clear(detail.target);
      return;
    }
    detail.shouldSwap = false;
    detail.isError = false;
    show(detail.target, messageFor(detail.xhr));
  });

  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail.target, messageFor({ status: 0 }));
  });
})();
