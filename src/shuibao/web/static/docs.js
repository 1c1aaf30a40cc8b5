// The API documentation pages, served with the vendored Swagger UI and ReDoc (no CDN: closed networks, and
// the Content-Security-Policy admits scripts from this origin only).
(function () {
  const swagger = document.getElementById("swagger-ui");
  if (swagger && window.SwaggerUIBundle) {
    window.SwaggerUIBundle({
      url: swagger.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true, showExtensions: true,
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset].filter(Boolean),
      layout: "BaseLayout",
      // writes from this page go with the session cookie: the platform asks for its request header (CSRF)
      requestInterceptor: (req) => { req.headers["X-Shuibao-Request"] = "1"; return req; },
    });
  }
  const redoc = document.getElementById("redoc");
  if (redoc && window.Redoc) window.Redoc.init(redoc.dataset.openapi, {}, redoc);
})();
