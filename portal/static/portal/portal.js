/* The portal's only script: move focus to an error summary so screen readers announce
   it and keyboard users start there. Everything works without it. */
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
