#include "scheduler/dashboard.h"

#include <string>
#include <string_view>

#include "scheduler/http_api.h"

namespace chime::scheduler {
namespace internal {
// Generated from scheduler/dashboard/ by CMake (dashboard_assets.cc).
extern const std::string_view kDashboardHtml;
extern const std::string_view kDashboardJs;
extern const std::string_view kDashboardUiJs;
extern const std::string_view kDashboardViewsJs;
extern const std::string_view kDashboardCss;
// Chart.js from Debian's libjs-chart.js, read at configure time.
extern const std::string_view kChartJs;
}  // namespace internal

namespace {

web::Response Asset(std::string_view body, std::string content_type, std::string cache = "no-cache") {
  web::Response r;
  r.content_type = std::move(content_type);
  r.body = std::string(body);
  r.headers = {{"Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Cache-Control", std::move(cache)}};
  return r;
}

}  // namespace

void AddDashboardRoutes(web::Server& server) {
  const auto page = [](const web::Request&) {
    return Asset(internal::kDashboardHtml, "text/html; charset=utf-8");
  };
  server.Get("/", RouteAccess("GET", "/"), page);
  server.Get("/dashboard", RouteAccess("GET", "/dashboard"), page);
  for (const auto& [path, script] : {std::pair{"/dashboard-ui.js", &internal::kDashboardUiJs},
                                      std::pair{"/dashboard-views.js", &internal::kDashboardViewsJs},
                                      std::pair{"/dashboard.js", &internal::kDashboardJs}}) {
    server.Get(path, RouteAccess("GET", path), [script](const web::Request&) {
      return Asset(*script, "text/javascript; charset=utf-8");
    });
  }
  server.Get("/dashboard.css", RouteAccess("GET", "/dashboard.css"), [](const web::Request&) {
    return Asset(internal::kDashboardCss, "text/css; charset=utf-8");
  });
  // The library changes only with the binary: an hour in the browser's cache.
  server.Get("/chart.js", RouteAccess("GET", "/chart.js"), [](const web::Request&) {
    return Asset(internal::kChartJs, "text/javascript; charset=utf-8", "max-age=3600");
  });
}

}  // namespace chime::scheduler
