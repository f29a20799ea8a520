// The dashboard: one page (scheduler/dashboard/) and Chart.js (Debian's
// libjs-chart.js, embedded at build time) served by the scheduler's HTTP
// server. The page and its script, style and chart library are open, like
// any static file; the data they show comes from /api with a token the page
// asks for and keeps in the browser tab only.
#pragma once

#include "common/web/server.h"

namespace chime::scheduler {

// GET / (and /dashboard), its scripts (/dashboard-ui.js, /dashboard-views.js,
// /dashboard.js), /dashboard.css and /chart.js, with a Content
// Security Policy that allows only this origin, so the page can reach no
// other host and runs no inline script.
void AddDashboardRoutes(web::Server& server);

}  // namespace chime::scheduler
