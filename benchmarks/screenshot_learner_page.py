"""Screenshot a published learner's page in headless Chromium, as a visitor sees it above the fold.

Serves the store on 127.0.0.1 (the real server), opens `/learners/ORG/NAME` at 1280x900 and saves a PNG;
prints what is above the fold (effect, CI, plot, snippet) so the picture can be checked without looking.

    .venv/bin/python benchmarks/screenshot_learner_page.py --store ~/.cache/learnerhub/store \
        --repo local/igf-smollm2-135m-instruct-kjv-sample --out benchmarks/results/learner_page.png
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from server import create_app
from server.testing import running_server

FOLD = 900


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--repo", required=True, help="ORG/NAME of the learner.")
    parser.add_argument("--out", required=True, help="PNG to write.")
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size=1280,{FOLD}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        with running_server(create_app(Path(args.store).expanduser())) as url:
            driver.get(f"{url}/learners/{args.repo}")

            def above_fold(selector: str) -> bool:
                found = driver.find_elements(By.CSS_SELECTOR, selector)
                return bool(found) and found[0].location["y"] < FOLD

            report = {"url_path": f"/learners/{args.repo}",
                      "effect": driver.find_element(By.ID, "effect").text if above_fold("#effect") else None,
                      "plot_above_fold": above_fold("#plot"), "snippet_above_fold": above_fold("#use-python"),
                      "warnings": [w.text for w in driver.find_elements(By.CSS_SELECTOR, "#use .warning")]}
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(args.out)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
