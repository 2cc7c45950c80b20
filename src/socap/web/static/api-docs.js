// /docs: Swagger UI over /openapi.json, from files this server serves (no CDN, no inline script; the page's
// Content-Security-Policy allows scripts from this origin only). Requests made with "Try it out" carry the
// signed-in session; those that change data also need the X-CSRF-Token header, as every API client does.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
