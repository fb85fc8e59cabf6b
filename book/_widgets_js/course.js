/* Course page fixes (loaded on every page, see _config.yml html_js_files).
 *
 * Navigation drawers. pydata-sphinx-theme 0.17 attaches its "open the drawer"
 * handler only to the first .primary-toggle / .secondary-toggle of a page: the
 * navbar's buttons, which sphinx-book-theme 1.3 hides. The buttons a reader
 * sees (in the article header) got no handler, so the chapter list and the
 * page contents never opened (sphinx-book-theme issue 917). Here every other
 * toggle forwards its click to the one the theme wired. */
document.addEventListener("DOMContentLoaded", function () {
  ["primary-toggle", "secondary-toggle"].forEach(function (kind) {
    var toggles = document.querySelectorAll("." + kind);
    if (toggles.length < 2) return;
    var wired = toggles[0];
    Array.prototype.slice.call(toggles, 1).forEach(function (button) {
      button.setAttribute("aria-haspopup", "dialog");
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    });
  });
});
