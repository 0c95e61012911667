"""The dashboard in a real headless browser: it loads, and changing a lever and stepping changes the plots;
the side-by-side mode shows its comparison plots. The side-by-side model itself is tested without a browser.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them the
test is skipped locally and says why; under CI (``CI=true``) a missing browser is a failure.
With ``LIVESIM_FIG_DIR`` set (as ``experiments/notebook_figures.py`` sets it for the notebooks), saves
the README's screenshot there as ``dashboard.png``, side-by-side panels drawn; otherwise the
screenshot goes to the test's temporary folder, so a test run leaves the checkout as it was.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


#: A quick market for the side-by-side model tests.
QUICK = {"seed": 3, "consumers": 2000, "burn_in": 30, "days": 20}
STEPS = 6


def _run(model, steps: int = STEPS):
    for _ in range(steps):
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def test_baseline_is_the_seed_settings():
    from sim.dashboard import BASELINE, MODEL_PARAMS

    assert {k: MODEL_PARAMS[k]["value"] for k in BASELINE} == BASELINE


def test_side_by_side_pairs_policy_with_baseline():
    from sim.dashboard import BASELINE, COMPARED, DashboardModel

    both = _run(DashboardModel(**QUICK, fund_scale=4.0, wave_size=5000, wave_day=2, compare=True))
    policy = _run(DashboardModel(**QUICK, fund_scale=4.0, wave_size=5000, wave_day=2))
    baseline = _run(DashboardModel(**QUICK, **BASELINE))
    assert len(both) == STEPS
    for m in COMPARED:
        assert both[m].tolist() == policy[m].tolist(), f"{m}: compare changed the policy arm"
        assert both[f"{m}_baseline"].tolist() == baseline[m].tolist(), f"{m}: the baseline is not the seed run"
        assert both[f"{m}_difference"].tolist() == (both[m] - both[f"{m}_baseline"]).tolist()
    assert both["gmv_difference"].abs().sum() > 0, "the policy made no difference to GMV"


def test_side_by_side_without_a_policy_differs_by_nothing():
    from sim.dashboard import COMPARED, DashboardModel

    frame = _run(DashboardModel(**QUICK, compare=True))
    for m in COMPARED:
        assert (frame[f"{m}_difference"] == 0).all(), m
        assert frame[m].tolist() == frame[f"{m}_baseline"].tolist(), m


def _browser() -> tuple[str, str]:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chrome and driver):
        why = "no chromium/chromedriver on PATH (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser test: {why}")
        pytest.skip(why)
    pytest.importorskip("selenium")
    pytest.importorskip("solara")
    return chrome, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chrome, driver = _browser()
    port = _free_port()
    log = open(tmp_path_factory.mktemp("dashboard") / "server.log", "w")  # a pipe nobody reads would block it
    proc = subprocess.Popen([sys.executable, "-m", "solara", "run", "sim.dashboard", "--port", str(port),
                             "--host", "127.0.0.1", "--production", "--no-open"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard server did not start")
        yield url, chrome, driver
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_dashboard_loads_and_responds_to_levers(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, chrome, driver_path = server
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    d = webdriver.Chrome(service=Service(driver_path), options=opts)
    wait = WebDriverWait(d, 90)

    def button(text: str):
        upper = "translate(normalize-space(), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"
        return wait.until(ec.element_to_be_clickable((By.XPATH, f"//button[{upper}='{text}']")))

    def plots(n: int = 5) -> list[str]:
        """The pixels of the first ``n`` plot images (drawn onto a canvas), not just their blob URLs."""
        wait.until(lambda drv: len(drv.find_elements(By.TAG_NAME, "img")) >= n)
        wait.until(lambda drv: drv.execute_script("return [...document.images].every(i => i.complete && i.naturalWidth > 0)"))
        return d.execute_script("""
            return [...document.images].slice(0, arguments[0]).map(i => {
                const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
                c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL(); });""", n)

    def step(n: int) -> None:
        for _ in range(n):
            button("STEP").click()
            time.sleep(0.4)
        time.sleep(1.5)

    try:
        d.get(url)
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'livesim: scenario dashboard')]")))
        empty = plots()
        step(4)
        stepped = plots()
        assert stepped[0] != empty[0], "stepping did not change the GMV plot"
        # change a lever: the guarantee package (a select); the market is rebuilt with the same seed
        wait.until(ec.element_to_be_clickable((By.XPATH, "//*[contains(@class,'v-select__selections')]//*[normalize-space()='seed']"))).click()
        wait.until(ec.element_to_be_clickable((By.XPATH, "//div[contains(@class,'v-list-item__title') and normalize-space()='none']"))).click()
        time.sleep(2.0)
        button("RESET").click()
        time.sleep(2.0)
        step(4)
        lever = plots()
        assert lever[0] != stepped[0], "changing the guarantee package did not change the GMV series"
        # side by side: off, the comparison panels are a hint; on (and reset), two more plots that stepping draws
        hint = "//p[contains(., 'policy against the baseline')]"
        wait.until(ec.presence_of_element_located((By.XPATH, hint)))
        assert len(d.find_elements(By.TAG_NAME, "img")) == 5
        wait.until(ec.element_to_be_clickable(
            (By.XPATH, "//label[normalize-space()='Side by side: policy vs baseline']"))).click()
        time.sleep(1.0)
        button("RESET").click()
        wait.until(ec.invisibility_of_element_located((By.XPATH, hint)))
        empty = plots(7)
        step(4)
        compared = plots(7)
        assert compared[5] != empty[5], "stepping did not draw the policy vs baseline GMV plot"
        assert compared[6] != empty[6], "stepping did not draw the difference plot"
        d.execute_script("document.images[5].scrollIntoView({block: 'center'})")  # the policy vs baseline panels
        time.sleep(0.5)
        shot = Path(os.environ.get("LIVESIM_FIG_DIR") or tmp_path) / "dashboard.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert d.save_screenshot(str(shot)) and shot.stat().st_size > 0
    finally:
        d.quit()
