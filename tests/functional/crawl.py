"""A crawler for the portal in a real browser: from a start page it follows
every link to a portal page it finds (navigation and page bodies alike), as
one persona, and records what a person would hit. New pages are crawled as
soon as something links to them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

# Not crawled: Django's own admin (not the portal's pages; its access is
# tested URL by URL), the API's JSON, static files, and signing out (a form).
SKIP_PREFIXES = ("/admin/", "/api/v1/schema", "/static/", "/accounts/sign-out/")
NARROW = {"width": 390, "height": 844}
MAX_PAGES = 400

_OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth + 1) return null;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1);
  const leaves = wide.filter(e => ![...e.children].some(c => wide.includes(c)));
  const first = leaves[0] || wide[0];
  return {scroll: root.scrollWidth, width: root.clientWidth,
          element: first ? first.tagName.toLowerCase() + (first.className ? '.' + first.className : '') : ''};
}"""


@dataclass
class Finding:
    persona: str
    url: str
    problem: str

    def __str__(self) -> str:
        return f"{self.persona:<13} {self.url}: {self.problem}"


@dataclass
class CrawlReport:
    visited: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def crawl(browser, base: str, persona: str, *, page, start: list[str]) -> CrawlReport:
    """Crawl from ``start`` with ``page`` (a browser page, signed in as the persona or not)."""
    report = CrawlReport()
    origin = urlsplit(base).netloc
    current = {"url": ""}

    def on_request(request):
        host = urlsplit(request.url).netloc
        if request.url.startswith(("data:", "blob:", "about:")) or host == origin:
            return
        report.findings.append(Finding(persona, current["url"], f"request to another host: {request.url}"))

    def on_console(message):
        if message.type == "error":
            report.findings.append(Finding(persona, current["url"], f"console error: {message.text}"))

    page.on("request", on_request)
    page.on("console", on_console)
    page.on(
        "pageerror", lambda error: report.findings.append(Finding(persona, current["url"], f"script error: {error}"))
    )

    queue = deque(start)
    seen = set(start)
    while queue and len(report.visited) < MAX_PAGES:
        path = queue.popleft()
        current["url"] = path
        response = page.goto(base + path, wait_until="load")
        report.visited.append(path)
        status = response.status if response else 0
        if status >= 500:
            report.findings.append(Finding(persona, path, f"answered {status}"))
            continue
        if status >= 400:
            report.findings.append(Finding(persona, path, f"a link leads to a page that answers {status}"))
        if page.locator("[data-testid=site-nav]").count() == 0:
            report.findings.append(Finding(persona, path, "no site navigation"))
        overflow = page.evaluate(_OVERFLOW)
        if overflow:
            report.findings.append(
                Finding(persona, path, f"wider than 390 px ({overflow['scroll']} px; {overflow['element']})")
            )
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = _portal_path(base, path, href, origin)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    page.context.close()
    return report


def _portal_path(base: str, here: str, href: str, origin: str) -> str | None:
    absolute, _ = urldefrag(urljoin(base + here, href))
    parts = urlsplit(absolute)
    if parts.scheme not in {"http", "https"} or parts.netloc != origin:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return path
