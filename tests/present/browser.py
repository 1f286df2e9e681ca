"""Headless Chromium for report tests: element positions and screenshots, network blocked.

No browser-driver download: Debian's ``chromium`` (installed by ``.ci/run``) is run with
``--dump-dom`` on a copy of the page that carries a small script; once the page (and vega) has
drawn, the script writes the bounding boxes of the elements asked for into the DOM, which
``--dump-dom`` prints. Every request leaves for a resolver that finds nothing and a proxy that is
not there, so a page that needs the network shows it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--hide-scrollbars", "--virtual-time-budget=5000"]


def chromium() -> str:
    """The Chromium binary, or a skip with the reason."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium on PATH (.ci/run installs Debian's chromium)")


def artifacts_dir() -> Path:
    """Where screenshots go: $PERFKIT_TEST_ARTIFACTS, or a folder in the system's temp dir."""
    out = Path(os.environ.get("PERFKIT_TEST_ARTIFACTS")
               or Path(tempfile.gettempdir()) / "perfkit-test-artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="perfkit-chromium-") as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


_PROBE = """<script>
(function(){function boxes(){var out={};[%s].forEach(function(sel){
 out[sel]=Array.prototype.map.call(document.querySelectorAll(sel),function(el){
 var r=el.getBoundingClientRect();return [r.left,r.top+window.scrollY,r.width,r.height];});});
 out["__rendered"]=Array.prototype.map.call(document.querySelectorAll('.perfkit-chart'),
 function(el){return el.getAttribute('data-perfkit-rendered');});
 var pre=document.createElement('pre');pre.id='perfkit-positions';
 pre.textContent=JSON.stringify(out);document.body.appendChild(pre);}
 window.addEventListener('load',function(){setTimeout(boxes,1500);});})();
</script>"""


def positions(page: Path, selectors: list[str], width: int = 1400) -> dict[str, list]:
    """Bounding boxes ``[left, top, width, height]`` (page coordinates, CSS px) of every element
    matching each selector in ``page`` laid out ``width`` px wide; ``__rendered`` lists each
    chart's ``data-perfkit-rendered`` (``vega`` once vega-embed drew it)."""
    text = page.read_text(encoding="utf-8")
    probe = _PROBE % ",".join(json.dumps(s) for s in selectors)
    with tempfile.TemporaryDirectory(prefix="perfkit-probe-") as tmp:
        copy = Path(tmp) / "page.html"
        head, tag, tail = text.rpartition("</body>")  # the last one: the vega bundle has others
        copy.write_text(head + probe + tag + tail, encoding="utf-8")
        done = _run([f"--window-size={width},900", "--dump-dom", copy.as_uri()])
    found = re.search(r'<pre id="perfkit-positions">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium printed no positions (rc {done.returncode}): {done.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, png: Path, *, width: int = 1400, height: int = 2400) -> Path:
    """A PNG of ``page`` at ``width`` × ``height`` (the top of the page)."""
    done = _run([f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()])
    assert png.is_file(), f"no screenshot (rc {done.returncode}): {done.stderr[-2000:]}"
    return png
